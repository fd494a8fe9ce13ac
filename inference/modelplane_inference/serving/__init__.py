"""The serving room: the local server, the KServe adapter, the V2 protocol and binary data,
request limits, manifest loading, metrics and the pipeline executor."""
