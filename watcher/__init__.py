"""watcher: follows inter-Korean and Russia-Korea analysis on the open web into a corpus.

Stage by stage, the module of each and the value it hands on:

    configuration   config (Config; validated alone, imports no stage), selectors
    schedule        schedule (Bounds.of(config.schedule) -> when a source is due)
    fetch           http (Fetcher -> Response | NotModified | FetchError), robots
    read a source   reading, feeds, sitemaps, listing, opml, discover -> ParsedFeed
    extract         extract, titles, boilerplate, pdf -> Article | ExtractFailed
    dedup           dedup (URL forms, exact hashes), neardup (Fingerprint, Passage,
                    NearDupRule.of(config.dedup)) -> the stored item a text is
    classify        lexicon, classify, relevance_features, relevance_model -> Verdict
    analyse         analyse: the pure stages in a worker process -> Analysed
    the pass        pipeline (orchestrates), report (EntryOutcome, SourceReport,
                    PassReport)
    store           store (Store: every read and write), models, db, migrations
    corpus          corpus (files, manifest), marks, reclassify
    deliver         digest (content, render, send), mail, atom, search
    services        app (one pass), daemon, health, status, lock, logs, workers,
                    scale (the queue's scheduler and workers), entry (first lines)
    command line    cli (one module per command group)
"""

__version__ = "0.1.0"
