# Helpers the bench scripts share; `. bench/lib.sh` from the repository's root.

# CPU time (user + system, clock ticks) of the given processes together.
ticks() {
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

# The median of the whitespace-separated numbers on stdin.
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# A current browser's agent: most hits are people's, and a hit without one
# is classed a bot (the no-user-agent rule), a rarer and different path.
browser_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

# Runs the command after SPOOL as one plain-CGI hit: the AMP sample page
# ($query, from bench/query.sh), a Chrome agent, the spool sink into SPOOL,
# no settings file, nothing else in the environment.
cgi_hit() {
  local spool=$1; shift
  env -i PIXELGATE_CONFIG=none PIXELGATE_SPOOL_DIR="$spool" GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=GET \
    SCRIPT_NAME=/pixel/v1/page REQUEST_URI="/pixel/v1/page?$query" QUERY_STRING="$query" SERVER_PROTOCOL=HTTP/1.1 \
    REMOTE_ADDR=198.51.100.23 \
    HTTP_USER_AGENT="$browser_agent" \
    "$@"
}
