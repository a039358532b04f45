"""WebView themes: the pure codec (validate, normalize, base64url) in `codec`, the named themes
of `BFF_THEMES_DIR` in `catalog`. Pure: no Flask; `extension` plugs the catalog into the app."""
