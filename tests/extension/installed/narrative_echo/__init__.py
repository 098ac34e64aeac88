"""A TCP echo service added to narrative-acceptance from outside: the plugin learns of it only through the
entry-point group ``narrative_fixtures.services`` (see ``../narrative_echo-0.1.dist-info/entry_points.txt``)."""

from .spec import SPEC  # noqa: F401
