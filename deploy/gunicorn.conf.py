"""gunicorn settings for the portal behind nginx: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`."""

import gc
import multiprocessing
import os

# nginx proxies to this address; the app server is never exposed directly
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# sync workers: every page is a few short queries and a template (bench/pages.py measures them).
# Two per core; the bench measured 2 and 4 workers on the 2-core machine.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# nginx buffers uploads (proxy_request_buffering on), so a slow client never holds a worker;
# a 32 MB upload from nginx on the same host arrives in well under this
timeout = 60
graceful_timeout = 30
keepalive = 5
# recycle workers now and then, so a slow leak never grows without bound
max_requests = 5000
max_requests_jitter = 500
# the application is imported once in the master, then forked: less memory per worker. The
# database pool is created lazily in each worker (no connection is opened at import).
preload_app = True
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
loglevel = "info"
# the client address is nginx's X-Forwarded-For; COURSE_PORTAL_PROXY_FIX=1 makes the app trust it
access_log_format = '%({x-forwarded-for}i)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'


def when_ready(server):
    """In the master, after the app is loaded and before the workers fork: everything loaded so
    far lives as long as the process, so the garbage collector need not walk it again in each
    worker (and pages shared with the master stay shared)."""
    gc.freeze()
