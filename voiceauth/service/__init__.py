"""`voiceauth serve`: the REST API, the call service and every transport in one process."""
