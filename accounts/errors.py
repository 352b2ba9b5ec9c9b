class Refused(Exception):
    """A request the rules refuse: `code` for programs, `message` for people, `field` for forms.

    Services raise it; the API's exception handler answers `status` (400 unless a rule
    says otherwise, e.g. 403 for "only the grantor may revoke") in the error format,
    and portal forms show `message` next to `field`.
    """

    def __init__(self, code, message, field=None, *, status=400, extra=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        self.extra = (
            extra or {}
        )  # more members of the API's error body, e.g. the choices to pick from
