from coder.cli import app

app(prog_name="alliance-coder")
