"""The offboarding review: credentials of members who left or lost access wait here for an
admin's decision (revoke, keep, or re-issue to a service account). Not a credential kind: a
root module of tokens, so it reaches the kinds only through what they register in `services`."""
