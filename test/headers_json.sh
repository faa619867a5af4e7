#!/bin/sh
# A fixture's headers file ("Name: value" lines) as one JSON object with
# lower-case names, the way PostgREST puts request headers in request.headers.
awk 'BEGIN { printf "{"; n = 0 }
     /^HTTP\// { next }
     { i = index($0, ":"); if (i == 0) next
       k = tolower(substr($0, 1, i - 1)); v = substr($0, i + 1); sub(/^[ \t]+/, "", v); sub(/\r$/, "", v)
       gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v)
       printf "%s\"%s\": \"%s\"", (n++ ? ", " : ""), k, v }
     END { printf "}" }' "$1"
