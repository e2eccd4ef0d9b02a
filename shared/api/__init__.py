"""The HTTP API's core: plain functions that return a Reply. The trigger functions in
functions/ turn requests into calls and Replies into HttpResponses."""
