"""The echo service as the plugin sees it: two settings besides its mode, and the modules of its parts."""

from narrative_fixtures.core.spec import ServiceSpec, Setting

SPEC = ServiceSpec(
    "echo",
    "echo server",
    "TEST_ECHO_URL",
    (
        Setting("url", "TEST_ECHO_URL", "echo://127.0.0.1:7007", "echo server used in external mode"),
        Setting("prefix", "TEST_ECHO_PREFIX", "", "what the embedded echo server puts before every line it returns"),
    ),
    "narrative-echo (a Python subprocess)",
    provider="narrative_echo.provider:PROVIDER",
    fixtures="narrative_echo.fixtures",
    url_schemes={"echo": 7007},
    unreachable_url="echo://127.0.0.1:{port}",
    order=90,
)
