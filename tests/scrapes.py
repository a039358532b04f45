"""Reading a scrape of `GET /metrics` in tests."""

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples(text).items() if n == name and wanted <= have)


def grew(before: str, after: str, name: str, **labels: str) -> float:
    """How much `value(name, **labels)` grew from the scrape `before` to the scrape `after`."""
    return value(after, name, **labels) - value(before, name, **labels)
