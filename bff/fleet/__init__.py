"""What the instances and workers of a fleet share through Redis (`REDIS_URL`): the connection
and its outages (`connection`), and values minted once for the whole fleet (`cache`)."""
