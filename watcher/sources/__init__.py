"""Reading a source: feeds, sitemaps, listing pages, OPML, discovery, and when to poll."""
