"""watcher: follows inter-Korean and Russia-Korea analysis on the open web into a corpus.

Stage by stage, the package or module of each and the value it hands on:

    configuration   config (Config; validated alone, imports no stage)
    fetch           fetch.http (Fetcher -> Response | NotModified | FetchError), fetch.robots
    read a source   sources: reading, feeds, sitemaps, listing, opml, discover, selectors
                    -> ParsedFeed of FeedEntry; sources.planning (Bounds -> next poll)
    extract         extraction: page, titles, boilerplate, pdf -> Article | ExtractFailed
    dedup           dedup: urls (URL forms, hashes), identity (ArticleIdentity),
                    neardup (Fingerprint, Passage, NearDupRule)
    classify        relevance: classify (Verdict), lexicon, features, model, similarity;
                    marks, teach (refit at every mark), training (the learners) and
                    reclassify (what the user's marks teach it)
    analyse         analyse: extract, fingerprint, classify in a worker -> Analysed
    the pass        pipeline: orchestrator (Pipeline), poller (FeedPoller -> Job),
                    processor (EntryProcessor -> EntryOutcome), decider (pure -> Intent),
                    filer (CorpusFiler -> Filing); report (SourceReport, PassReport)
    store           store (Store: every read and write), store.models, store.db,
                    migrations; corpus (files, manifest.jsonl); search (query words)
    deliver         delivery: digest (content, render, send, timing), mail, atom,
                    templating
    services        services: app (one pass wired; a mark), daemon, serving (the page
                    alone), status, lock, logs, workers (process pool), startup (the
                    program's first lines); scale (the queue's scheduler and workers)
    review page     web: app (Starlette), pages, lists, overview, login, security,
                    metrics, render, server (uvicorn on the caller's loop)
    command line    cli (one module per command group)
"""

__version__ = "0.1.0"
