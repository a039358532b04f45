"""Historical transactions for Kard: check JSONL files, upload them, and read the results.

`jsonl` reads and checks lines; `bulk` uploads files to presigned URLs (the current flow);
`legacy` sends them to the deprecated per-user upload session; `results` maps a results file's
errors to lines; `manifest` remembers uploads; `report` words it all for the command line.
"""
