class Refused(Exception):
    """A request the rules refuse: `code` for programs, `message` for people, `field` for forms.

    Services raise it (or a subclass); the API's exception handler turns it into a 400 in
    the error format, and portal forms show `message` next to `field`.
    """

    def __init__(self, code, message, field=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
