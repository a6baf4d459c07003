"""The toolkit's one error type: the CLI prints it as `homeca: message`."""


class HomecaError(Exception):
    pass
