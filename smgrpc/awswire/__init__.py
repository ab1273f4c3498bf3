"""The AWS JSON 1.1 front door (issue 11): codec, listener, dispatch."""
