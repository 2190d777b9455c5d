import pytest

from mirrorctl import urls
from mirrorctl.errors import UsageError


@pytest.mark.parametrize("raw, expected", [
    ("https://pypi.tuna.tsinghua.edu.cn/simple", "https://pypi.tuna.tsinghua.edu.cn/simple"),
    ("HTTPS://Mirror.Example.ORG/simple/", "https://mirror.example.org/simple/"),
    ("http://127.0.0.1:8080/simple", "http://127.0.0.1:8080/simple"),
    ("https://user:p%40ss@pypi.corp.example/simple", "https://user:p%40ss@pypi.corp.example/simple"),
    ("https://bücher.example/simple", "https://xn--bcher-kva.example/simple"),
    ("https://example.org/sim ple".replace(" ", "%20"), "https://example.org/sim%20ple"),
    ("https://[::1]:3141/simple", "https://[::1]:3141/simple"),
])
def test_valid_urls_are_normalised_to_ascii(raw, expected):
    assert urls.validate_index_url(raw) == expected


@pytest.mark.parametrize("raw, fragment", [
    ("https://example.org/simple\n[global]\nindex-url=http://evil", "whitespace or a control"),
    ("https://example.org/simple\r", "whitespace or a control"),
    ("https://example.org/ simple", "whitespace or a control"),
    ("https://example.org/\x00simple", "whitespace or a control"),
    ("ftp://example.org/simple", "scheme must be http or https"),
    ("file:///opt/pypi/simple", "scheme must be http or https"),
    ("https:///simple", "no host"),
    ("https://example.org:99999/simple", "Port out of range"),
    ("https://example.org/simple#frag", "fragment"),
    ("javascript:alert(1)", "scheme"),
    ("https://exa$mple.org/simple", "not a valid name"),
])
def test_hostile_or_broken_urls_are_refused(raw, fragment):
    with pytest.raises(UsageError) as err:
        urls.validate_index_url(raw)
    assert fragment in err.value.message
    assert "\n" not in err.value.message
    assert err.value.hint


def test_passwords_are_masked_in_messages():
    with pytest.raises(UsageError) as err:
        urls.validate_index_url("ftp://bob:hunter2@example.org/simple")
    assert "hunter2" not in err.value.message
    assert "bob:****@" in err.value.message


@pytest.mark.parametrize("url, masked", [
    ("https://bob:hunter2@example.org/simple", "https://bob:****@example.org/simple"),
    ("https://tok3n@example.org/simple", "https://****@example.org/simple"),
    ("https://example.org/simple", "https://example.org/simple"),
    ("index-url = https://a:b@h/x", "index-url = https://a:****@h/x"),
])
def test_mask_url(url, masked):
    assert urls.mask_url(url) == masked


def test_same_index_ignores_case_trailing_slash_default_port_and_credentials():
    assert urls.same_index("https://PyPI.org/simple/", "https://pypi.org:443/simple")
    assert urls.same_index("https://u:p@pypi.org/simple", "https://pypi.org/simple")
    assert not urls.same_index("https://pypi.org/simple", "http://pypi.org/simple")
    assert not urls.same_index("https://pypi.org/simple", None)


@pytest.mark.parametrize("url, host", [
    ("http://127.0.0.1:8080/simple", "127.0.0.1:8080"),
    ("http://mirror.lan/simple", "mirror.lan"),
    ("https://mirror.lan/simple", None),
])
def test_trusted_host_only_for_http(url, host):
    assert urls.trusted_host_for(url) == host
