"""The bearer path: what runs on every API request before the view. `lookup` sends the
one prepared digest lookup as the request arrives, `authentication` answers from the
cache or that lookup, and `principal` is who the request acts for."""
