"""Debian's nginx as a caching reverse proxy in front of a gateway, the way
an operator (or a public gateway's CDN) puts one there: /ipfs/ answers
kept long, /ipns/ answers kept for a set time whatever the gateway's
Cache-Control says, one request upstream at a time per URL, stale answers
served while one is being fetched. Its access log says, per request,
whether the cache answered (`$upstream_cache_status`)."""
import os
import socket

import radiotest as rt


def start(procs, root, upstream, ipns_seconds, ipfs_seconds=86400):
    """Starts nginx under root (config, cache, logs) in front of upstream;
    returns its base URL once it answers."""
    os.makedirs(root, exist_ok=True)
    port = rt.free_port()
    conf = f"""
user root;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  log_format cache '$upstream_cache_status $status $request_uri';
  access_log {root}/access.log cache;
  proxy_cache_path {root}/cache levels=1:2 keys_zone=radio:16m max_size=1g inactive=1d use_temp_path=off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  proxy_read_timeout 120s;
  server {{
    listen 127.0.0.1:{port};
    proxy_cache radio;
    proxy_cache_lock on;
    proxy_cache_lock_timeout 120s;
    proxy_cache_use_stale updating error timeout;
    proxy_ignore_headers Cache-Control Expires;
    location /ipfs/ {{ proxy_pass {upstream}; proxy_cache_valid 200 {ipfs_seconds}s; }}
    location /ipns/ {{ proxy_pass {upstream}; proxy_cache_valid 200 {ipns_seconds}s; }}
  }}
}}
"""
    path = os.path.join(root, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    rt.spawn(procs, ["nginx", "-p", root, "-c", path, "-g", "daemon off;"], os.path.join(root, "nginx.log"))
    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    rt.wait_for(listening, 30, f"nginx to listen on {port}")
    return f"http://127.0.0.1:{port}"


def access_log(root):
    """[(cache status, HTTP status, request URI)] of every request so far."""
    with open(os.path.join(root, "access.log")) as f:
        return [tuple(line.split(" ", 2)) for line in f.read().splitlines() if line.strip()]
