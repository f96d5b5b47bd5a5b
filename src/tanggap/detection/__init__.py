"""What detection stores: text fingerprints, signals on posts, the live rule files, retroactive
scan records. Domain layer; the pipeline that runs it is ``screening``."""
