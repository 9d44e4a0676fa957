"""gunicorn settings of the app servers (docker-compose.yml, docker/Dockerfile).

The database's pool is loaded before the worker serves (TRYTOND_DATABASE_NAMES):
its hundreds of thousands of long-lived objects (models, fields, compiled
templates) are then frozen out of the cyclic garbage collector, and the
youngest generation is collected less often. `bench/load.py --experiment gc`
measures the same settings."""
import gc
import os

bind = '0.0.0.0:8000'
workers = int(os.environ.get('PORTICO_WORKERS', os.cpu_count() or 2))
# PDF reports and exports may outlive gunicorn's default 30 s
timeout = 120


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
    gc.set_threshold(50000, *gc.get_threshold()[1:])
