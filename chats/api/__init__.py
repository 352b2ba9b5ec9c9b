"""The platform API: the resources credentials protect, always filtered to the caller's reach.

One module per resource family; `chats.api_urls` routes them. Every view declares
`required_scopes` per action; reach (chats.reach) decides what exists for the
caller at all, so another organization's object is a 404.
"""
