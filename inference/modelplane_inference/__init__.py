"""modelplane data plane: stage predictors, pipeline executor, local server and CLI.

Never imports operator code; what it shares with the operator is the manifest schema.
"""
