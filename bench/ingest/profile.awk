# bench/ingest/profile.awk: where the time of nexus.ingest_orders() goes.
#
# Reads `perf script -F ip,sym` output of a backend recorded with DWARF call
# graphs (one sample per blank-line-separated stack, leaf first) and puts
# each sample in one bucket, by the first rule (in the order below) that a
# frame of its stack matches.  Prints the buckets with their share, then,
# for the samples in nexus's own C code, the innermost nexus function.

function bucket(stack,    b) {
	if (stack ~ / (json_in|pg_parse_json)\n/)                           return "input: json_in validating the json argument (PostgreSQL lexer)"
	if (stack ~ / json_loadb\n/)                                        return "adapter: jansson parse of the page (json_loadb)"
	if (stack ~ / nx_json_loadb[a-z_]*\n/)                              return "adapter: JSON parse of the page (nx_json_loadb)"
	if (stack ~ / json_delete\n/)                                       return "adapter: jansson free of the page (json_delete)"
	if (stack ~ / (json_dumps|json_dump_callback)\n/)                   return "adapter: jansson dump (canonical text, shipping address text)"
	if (stack ~ / (nx_order_to_json|json_object_set_new|json_string)\n/) return "adapter: canonical JSON object built"
	# glibc consolidates the many small chunks jansson freed at the next large malloc, wherever it is
	if (stack ~ /^ (malloc_consolidate|unlink_chunk[^\n]*)\n/)       return "libc: malloc_consolidate of the chunks jansson freed (at a later palloc)"
	if (stack ~ / (RI_FKey_check|RI_FKey_check_ins|SPI_execute_snapshot)\n/) return "SPI: foreign-key checks (item -> order, order -> tenant), per row"
	if (stack ~ / jsonb_in\n/)                                          return "jsonb_in (shipping_address text -> jsonb)"
	if (stack ~ / numeric_in\n/)                                        return "numeric_in (amounts text -> numeric)"
	if (stack ~ / (pg_cryptohash_[a-z]+|pg_md5_[a-z]+|MD5_[A-Za-z_]+|md5_block[a-z_]*)\n/) return "content_hash (md5)"
	if (stack ~ / pg_strong_random\n/)                                  return "order ids (pg_strong_random)"
	if (stack ~ / touch_updated_at\n/)                                  return "trigger touch_updated_at"
	if (stack ~ / (ExecInsertIndexTuples|index_insert)\n/)              return "store: index maintenance (btree inserts)"
	if (stack ~ / (heap_insert|heap_multi_insert|RelationGetBufferForTuple)\n/) return "store: heap insert"
	if (stack ~ / nx_bulk_[a-z]+\n/)                                    return "store: bulk rows (slots, defaults, constraints, scale)"
	if (stack ~ / (pg_plan_query|standard_planner|pg_analyze_and_rewrite[a-z_]*|GetCachedPlan)\n/) return "SPI: planning (cached plans, connection look-up)"
	if (stack ~ / (standard_ExecutorStart|ExecutorStart)\n/)            return "SPI: executor start"
	if (stack ~ / (heap_lock_tuple|ExecLockRows)\n/)                    return "SPI: look-up row locks (FOR UPDATE)"
	if (stack ~ / (_bt_first|btgettuple|index_getnext_slot)\n/)         return "SPI: look-up index scan"
	if (stack ~ / (SPI_execute_plan|SPI_execute_plan_with_paramlist|SPI_execute_with_args|_SPI_execute_plan|standard_ExecutorRun|standard_ExecutorEnd|standard_ExecutorFinish)\n/) return "SPI: other executor work (unnest, projection, constraints, WAL)"
	if (stack ~ / (construct_md_array|array_[a-z_]+)\n/)                return "arrays built for the SPI statements"
	if (stack ~ / (nexus_ingest_payload|nexus_adapt_payload|copy_order|nx_[a-z_0-9]+|shopify_[a-z_]+|walmart_[a-z_]+|add_order_columns|add_items|col_[a-z]+|amount_datum|content_hash|decide|lookup_stored|unstorable|fits_cents)\n/) return "adapter/ingest C code (normalize, copy to palloc, columns)"
	if (stack ~ / (CommitTransaction|CommitTransactionCommand|RecordTransactionCommit|PreCommit_Notify|AtCommit_Notify|Async_Notify)\n/) return "commit (and NOTIFY)"
	if (stack ~ / (detoast_attr|lz4_decompress_datum|LZ4_decompress_safe|toast_fetch_datum|heap_fetch_toast_slice)\n/) return "driver: page fetch (detoast)"
	if (stack ~ / nexus_ingest_orders\n/)                               return "nexus_ingest_orders, other"
	if (stack ~ / (exec_stmt[a-z_]*|plpgsql_exec_function|exec_eval_expr|exec_assign_value)\n/) return "driver: plpgsql loop (bench.run)"
	return "other (outside the call, or stack not unwound)"
}

function account(stack,    b, lines, k, f) {
	b = bucket(stack)
	n[b]++
	total++
	if (b ~ /^adapter\/ingest C code/) {
		split(stack, lines, "\n")
		for (k = 1; k in lines; k++) {
			f = lines[k]
			sub(/^ /, "", f)
			if (f ~ NEXUS_FN) {
				own[f]++
				break
			}
		}
	}
}

BEGIN {
	NEXUS_FN = "^(nexus_[a-z_]+|copy_order|nx_[a-z_0-9]+|shopify_[a-z_]+|walmart_[a-z_]+|add_order_columns|add_items|col_[a-z]+|amount_datum|content_hash|decide|lookup_stored|unstorable|fits_cents|opt_string|opt_time|required_id|join_name|item_title|order_money|all_delivered|paid_status|is_fulfillment_network|shortest_decimal|expand_exponent|pstr|copy_amount|load)$"
}

/^$/ {
	if (stack != "")
		account(stack)
	stack = ""
	next
}
{
	sym = $2
	for (i = 3; i <= NF; i++)
		sym = sym " " $i
	sub(/\+0x[0-9a-f]+$/, "", sym)
	stack = stack " " sym "\n"
}
END {
	if (stack != "")
		account(stack)
	if (total == 0) {
		print "no samples"
		exit 1
	}
	printf "%d samples\n", total
	for (b in n)
		printf "%6.1f%%  %s\n", 100.0 * n[b] / total, b | "sort -rn"
	close("sort -rn")
	printf "within nexus's own C code (innermost nexus function, share of all samples):\n"
	for (f in own)
		printf "%6.1f%%  %s\n", 100.0 * own[f] / total, f | "sort -rn | head -12"
	close("sort -rn | head -12")
}
