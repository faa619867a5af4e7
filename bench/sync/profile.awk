# bench/sync/profile.awk: where a sync worker's CPU time goes.
#
# Reads `perf script -F ip,sym` output of the sync workers recorded with
# DWARF call graphs (one sample per blank-line-separated stack, leaf first)
# and puts each sample in one bucket, by the first rule (in the order below)
# that a frame of its stack matches.  Prints the buckets with their share.
# (Modelled on bench/ingest/profile.awk.)

function bucket(stack) {
	# fetch
	if (stack ~ / (curl_multi_[a-z_]+|Curl_[A-Za-z_0-9]+|nexus_http_[a-z_]+|on_body|on_header)\n/) return "fetch: libcurl and the transfer loop (sockets, HTTP, headers, body copy)"
	# parse
	if (stack ~ / (json_loadb|json_loads|nx_json_loadb[a-z_]*)\n/)         return "parse: jansson parse of the page"
	if (stack ~ / json_delete\n/)                                           return "parse: jansson free of the page (json_delete)"
	if (stack ~ /^ (malloc_consolidate|unlink_chunk[^\n]*)\n/)             return "parse: libc malloc_consolidate (chunks jansson freed)"
	if (stack ~ / (json_dumps|json_dump_callback)\n/)                       return "normalize: jansson dump (canonical text)"
	# rows written like COPY (src/bulk.c): its heap and index work, then the rest of it
	if (stack ~ / nx_bulk_[a-z]+\n/ && stack ~ / (ExecInsertIndexTuples|index_insert)\n/) return "upsert: index maintenance (btree inserts)"
	if (stack ~ / nx_bulk_[a-z]+\n/ && stack ~ / (heap_multi_insert|RelationGetBufferForTuple)\n/) return "upsert: heap insert/update"
	if (stack ~ / nx_bulk_[a-z]+\n/)                                       return "upsert: bulk rows (slots, defaults, constraints, scale)"
	if (stack ~ / (nexus_adapt_[a-z_]+|take_page|[a-z]+_normalize|nx_[a-z_0-9]+)\n/) return "normalize: adapter (page to canonical orders)"
	# upsert
	if (stack ~ / (RI_FKey_check|RI_FKey_check_ins)\n/)                     return "upsert: foreign-key checks (item -> order, order -> tenant)"
	if (stack ~ / (ExecInsertIndexTuples|index_insert)\n/)                  return "upsert: index maintenance (btree inserts)"
	if (stack ~ / (heap_insert|heap_multi_insert|RelationGetBufferForTuple|heap_update)\n/) return "upsert: heap insert/update"
	if (stack ~ / lookup_stored\n/)                                         return "upsert: look-up of the stored versions"
	if (stack ~ / (content_hash|order_hash|pg_md5_[a-z]+|pg_cryptohash_[a-z]+)\n/) return "upsert: content hash (md5)"
	if (stack ~ / (jsonb_in|numeric_in)\n/)                                 return "upsert: jsonb_in/numeric_in of the values"
	if (stack ~ / (CommitTransaction|CommitTransactionCommand|RecordTransactionCommit|AtCommit_Notify|PreCommit_Notify)\n/) return "commit (WAL, NOTIFY, end of transaction)"
	# bookkeeping: the runs' rows (plpgsql functions), claims, tokens
	if (stack ~ / (claim|renew|finish|save_token|note_throttled|start_claimed|cached_token|record_finish)\n/) return "bookkeeping: claim, renew, finish, tokens"
	if (stack ~ / (plpgsql_exec_function|exec_stmt[a-z_]*)\n/)              return "bookkeeping: sync_page_done (plpgsql)"
	if (stack ~ / pg_strong_random\n/)                                      return "upsert: order ids (pg_strong_random)"
	if (stack ~ / nexus_ingest_payload\n/)                                  return "upsert: other (SPI executor, arrays, ingest C)"
	if (stack ~ / store_page\n/)                                            return "store_page: other (transaction start, SPI)"
	if (stack ~ / (nexus_run_[a-z_]+)\n/)                                   return "run state machine, other"
	if (stack ~ / (nexus_sync_worker_main|drive|collect)\n/)               return "worker loop, other (latch, poll)"
	return "other (stack not unwound)"
}

/^$/ {
	if (stack != "") {
		n[bucket(stack)]++
		total++
	}
	stack = ""
	next
}
{
	sym = $2
	for (i = 3; i <= NF; i++)
		sym = sym " " $i
	sub(/ \(inlined\)$/, "", sym)
	sub(/\+0x[0-9a-f]+$/, "", sym)
	stack = stack " " sym "\n"
}
END {
	if (stack != "") {
		n[bucket(stack)]++
		total++
	}
	if (total == 0) {
		print "no samples"
		exit 1
	}
	printf "%d samples of the sync workers\n", total
	for (b in n)
		printf "%6.1f%%  %s\n", 100 * n[b] / total, b | "sort -rn"
	close("sort -rn")
}
