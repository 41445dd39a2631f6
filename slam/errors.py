"""The one exception type the project raises for bad input."""


class SlamError(ValueError):
    """Bad input or an impossible request, with a one-line message.

    The message says what is wrong and what is accepted; the CLI prints it as one
    line on stderr (exit code 2) and the web app shows it in the UI.
    """

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))
