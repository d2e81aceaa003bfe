#!/bin/bash
# shim_nginx.sh - nginx, unmodified, on ustack through the shim, as one
# process (master_process off: a forked worker could not use the ustack
# sockets it inherits, see the README). It serves a 10 MB file; the
# kernel's curl checks its SHA-256, and the kernel's wrk (-t2 -c64 -d10s)
# must end with no socket error and no non-2xx response (wrk counts a
# body shorter than its Content-Length as a read error). SIGQUIT then
# stops nginx gracefully; it must exit 0.
#
# In a namespace of its own: tap0 with 10.63.0.1/24 on the kernel side,
# nginx's ustack instance at 10.63.0.2/24. SHIM_WRK_SECONDS sets wrk's
# duration (default 10).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 63
source "$(dirname "$0")/lib/shim.sh"
shim_need nginx wrk curl
SHIM_BULK=1
SECS=${SHIM_WRK_SECONDS:-10}

mkdir -p "$WORK/www" "$WORK/logs"
shim_make_file "$WORK/www/f.bin" 10
SHA=$(shim_sha "$WORK/www/f.bin")
cat >"$WORK/nginx.conf" <<EOC
daemon off;
master_process off;
user root root;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; use epoll; }
http {
	access_log off;
	sendfile on;
	keepalive_requests 100000;
	client_body_temp_path $WORK/tmp_body;
	proxy_temp_path $WORK/tmp_proxy;
	fastcgi_temp_path $WORK/tmp_fastcgi;
	uwsgi_temp_path $WORK/tmp_uwsgi;
	scgi_temp_path $WORK/tmp_scgi;
	server { listen $USTACK_IP:8080; root $WORK/www; }
}
EOC
shim_start nginx nginx -c "$WORK/nginx.conf" -p "$WORK"
for _ in $(seq 100); do
	curl -s -o /dev/null "http://$USTACK_IP:8080/" && break
	kill -0 "$SHIM_PID" 2>/dev/null || shim_fail "nginx exited"
	sleep 0.2
done

curl -sS --fail -o "$WORK/got.bin" "http://$USTACK_IP:8080/f.bin" ||
	shim_fail "curl failed"
[ "$(shim_sha "$WORK/got.bin")" = "$SHA" ] || shim_fail "the file differs"
echo "ok: curl: sha256 matches"

# 64 connections share the link: a 10 MB response takes seconds, so wrk's
# per-request timeout (2 s by default) is raised.
timeout $((SECS + 90)) wrk -t2 -c64 -d"${SECS}s" --timeout 60s \
	"http://$USTACK_IP:8080/f.bin" >"$WORK/wrk.out" 2>&1 ||
	shim_fail "wrk failed"
cat "$WORK/wrk.out"
grep -q 'Socket errors' "$WORK/wrk.out" && shim_fail "wrk saw socket errors"
grep -q 'Non-2xx' "$WORK/wrk.out" && shim_fail "wrk saw non-2xx responses"
n=$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")
[ "${n:-0}" -ge 1 ] || shim_fail "wrk completed no request"
echo "ok: wrk: $n responses of 10 MiB, no socket errors"

kill -QUIT "$SHIM_PID"
shim_wait_exit "$SHIM_PID" 30 nginx
integ_pass
