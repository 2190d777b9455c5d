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


# -- credentials ------------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    ("https://u:pa ss@host.example/simple", "https://u:****@host.example/simple"),
    ("https://u:pa\nss@host.example/simple", "https://u:****@host.example/simple"),
    ("https://u:pa/ss@host.example/simple", "https://u:****@host.example/simple"),
    ("https://tok en@host.example/simple", "https://****@host.example/simple"),
    ("https://u:p@ss@host.example/simple", "https://u:****@host.example/simple"),
    ("https://host.example:8080/simple/@scope", "https://host.example:8080/simple/@scope"),
    ("https://host.example/simple", "https://host.example/simple"),
])
def test_mask_one_masks_a_userinfo_a_url_may_not_even_hold(raw, shown):
    assert urls.mask_one(raw) == shown


@pytest.mark.parametrize("raw", [
    "https://u:pa ss@host.example/simple",
    "https://u:pa\tss@host.example/simple",
    "https://u:pa/ss@host.example/simple",
    "https://u:pass@host.example:99999/simple",
    "ftp://u:pass@host.example/simple",
    "https://u:pass@ho$t.example/simple",
    "https://u:pass@host.example/simple#x",
])
def test_no_validation_error_echoes_the_password(raw):
    with pytest.raises(UsageError) as err:
        urls.validate_index_url(raw)
    assert "pa" not in err.value.message.replace("path", "").replace("space", "")
    assert "u:****@" in err.value.message


def test_mask_url_masks_netrc_passwords_in_a_diff():
    assert urls.mask_url("+machine h.example login u password s3cret") == "+machine h.example login u password ****"
    assert urls.mask_url('   password "s3 cret"') == "   password ****"
    assert urls.mask_url("-default login anonymous password me@x") == "-default login anonymous password ****"
    # free text that merely mentions a password stays as it is
    assert urls.mask_url("made pip.conf private (0600): it now holds a password") == \
        "made pip.conf private (0600): it now holds a password"


def test_credential_helpers():
    url = "https://u:p%40ss@host.example:8443/simple"
    assert urls.userinfo(url) == "u:p%40ss"
    assert urls.without_credentials(url) == "https://host.example:8443/simple"
    assert urls.without_credentials("https://host.example/simple") == "https://host.example/simple"
    assert urls.has_credentials("https://tok@host.example/") and not urls.has_credentials("https://host.example/")
    assert urls.passwords_in("a = https://u:p@h.example/s\nb = https://tok@h.example/s\n") == ["u:p"]


def test_a_rotated_token_is_the_same_index_but_not_identical():
    old, new = "https://u:old@host.example/simple", "https://u:new@host.example/simple/"
    assert urls.same_index(old, new)  # display, catalogue matching, agreement between tools
    assert not urls.identical_index(old, new)  # what `use` must write
    assert urls.identical_index(old, "HTTPS://u:old@HOST.example/simple/")
    assert not urls.identical_index("https://host.example/simple", old)
