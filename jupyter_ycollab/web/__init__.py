"""HTTP and the websocket: authenticate, authorize, translate ids, bytes and errors."""
