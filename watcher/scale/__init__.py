"""Scale-out: polling and extraction as jobs on procrastinate, a PostgreSQL task queue.

    watcher scheduler (one):  sources due -> poll jobs; waiting entries -> entry jobs;
                              stalled jobs retried; corpus files and manifest written;
                              the digest sent
    watcher worker (any):     poll job  -> Pipeline.read_source  (its new entries' jobs
                                           are enqueued in the transaction that stores them)
                              entry job -> Pipeline.process_waiting (fetch, analyse, dedup,
                                           store; the file is the scheduler's to write)

The database stays the record of what is to do (sources' next poll, entries waiting);
the queue only hands that work out. Needs ``pip install 'watcher[scale]'``.
"""

# Here, not in watcher.scale.jobs: ``watcher status`` names them without procrastinate.
QUEUE = "watcher"
POLL_TASK = "watcher.poll"
ENTRY_TASK = "watcher.entry"
TASKS = (POLL_TASK, ENTRY_TASK)
