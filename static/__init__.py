"""The pages: HTML, stylesheets and JavaScript modules, served by `bff.pages`.

This folder is installed as the package `bff.static` (pyproject.toml maps it), so a wheel carries
the pages inside `bff` and `importlib.resources` finds them in a checkout and an install alike.
"""
