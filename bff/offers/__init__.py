"""Offers and locations as apps see them: the query rules of each endpoint (`queries`), Kard's
answers with their links and call-to-action URLs pointing at the BFF (`rewrite`), and the CTA forms
those URLs stand for (`cta`). Pure: no Flask; `extension` plugs it into the app."""
