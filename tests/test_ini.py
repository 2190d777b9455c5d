"""Comment-preserving INI edits: every untouched byte stays."""

import configparser

import pytest

from mirrorctl.errors import ConfigFileError
from mirrorctl.formats.ini import IniDocument
from mirrorctl.targets.pip import normalize_key

COMMENTED = (
    "# my pip settings\n"
    "; keep the timeout high on the campus network\n"
    "[global]\n"
    "timeout = 60   \n"
    "index-url=https://old.example/simple\n"
    "\n"
    "# install options\n"
    "[install]\n"
    "no-warn-script-location = true\n"
    "\n"
)


def test_round_trip_without_edits_is_byte_exact():
    for text in (COMMENTED, COMMENTED.replace("\n", "\r\n"), "", "\n\n", "[global]", "# only a comment"):
        assert IniDocument(text, "f").text() == text


def test_set_existing_key_changes_only_that_line():
    doc = IniDocument(COMMENTED, "f")
    doc.set("global", "index-url", "https://new.example/simple", normalize_key)
    assert doc.text() == COMMENTED.replace("index-url=https://old.example/simple",
                                           "index-url=https://new.example/simple")


def test_set_matches_every_spelling_of_the_key():
    text = "[global]\nIndex_URL = https://old/simple\n"
    doc = IniDocument(text, "f")
    doc.set("global", "index-url", "https://new/simple", normalize_key)
    assert doc.text() == "[global]\nIndex_URL = https://new/simple\n"


def test_new_key_goes_after_the_last_option_not_after_blank_lines():
    doc = IniDocument(COMMENTED, "f")
    doc.set("install", "index-url", "https://x/simple", normalize_key)
    assert doc.text() == COMMENTED.replace("no-warn-script-location = true\n",
                                           "no-warn-script-location = true\nindex-url = https://x/simple\n")


def test_new_section_is_appended_after_a_blank_line_and_crlf_is_kept():
    text = "[install]\r\nuser = true\r\n"
    doc = IniDocument(text, "f")
    doc.set("global", "index-url", "https://x/simple")
    assert doc.text() == "[install]\r\nuser = true\r\n\r\n[global]\r\nindex-url = https://x/simple\r\n"


def test_file_without_final_newline():
    doc = IniDocument("[global]\ntimeout = 5", "f")
    doc.set("global", "index-url", "https://x/simple")
    assert doc.text() == "[global]\ntimeout = 5\nindex-url = https://x/simple\n"


def test_multiline_value_is_replaced_but_comments_inside_it_stay():
    text = "[global]\ntrusted-host = a\n    b\n  # note\n    c\nx = 1\n"
    doc = IniDocument(text, "f")
    doc.set("global", "trusted-host", "a c")
    assert doc.text() == "[global]\ntrusted-host = a c\n  # note\nx = 1\n"


def test_remove_then_set_back_and_remove_whole_section_we_added():
    doc = IniDocument(COMMENTED, "f")
    doc.set("download", "index-url", "https://x/simple")
    doc.remove("download", "index-url")
    assert doc.text() == COMMENTED


def test_remove_keeps_section_with_other_content():
    doc = IniDocument(COMMENTED, "f")
    assert doc.remove("global", "index_url", normalize_key)
    assert doc.text() == COMMENTED.replace("index-url=https://old.example/simple\n", "")
    assert not doc.remove("global", "index-url", normalize_key)


def test_set_refuses_a_value_with_a_newline():
    doc = IniDocument(COMMENTED, "f")
    with pytest.raises(ValueError):
        doc.set("global", "index-url", "https://x\n[evil]")


@pytest.mark.parametrize("text, fragment", [
    ("index-url = https://x\n", "no [section] header"),
    ("[global]\n[global]\n", "appears twice"),
    ("[global]\nindex-url = a\nindex-url = b\n", "appears twice"),
    ("[global\nindex-url = a\n", "line 1"),
    ("[global]\nthis line has no separator\n", "cannot parse"),
])
def test_files_pip_cannot_read_are_refused(text, fragment):
    with pytest.raises(ConfigFileError) as err:
        IniDocument(text, "/x/pip.conf")
    assert fragment in err.value.message
    assert err.value.message.startswith("/x/pip.conf: ")
    # the stdlib parser, which pip uses, fails on the same files
    with pytest.raises(configparser.Error):
        configparser.RawConfigParser().read_string(text)


def _values(text):
    parser = configparser.RawConfigParser()
    parser.read_string(text)
    return {s: dict(parser.items(s)) for s in parser.sections()}


@pytest.mark.parametrize("text", [
    "[global]\nindex-url =\n    https://old/simple\ntimeout = 1\n",
    "[global]\nindex-url = https://a/simple\n    https://b/simple\ntimeout = 1\n",
    "[global]\nindex-url =\n# a note\n    https://old/simple\ntimeout = 1\n",
    "[global]\nindex-url =\n\n    https://old/simple\n\ntimeout = 1\n",
    "[global]\r\nindex-url =\r\n\thttps://old/simple\r\ntimeout = 1\r\n",
    "[global]\nindex-url =\n    https://old/simple",
])
def test_a_value_continued_on_next_lines_is_replaced_and_removed_whole(text):
    doc = IniDocument(text, "f")
    doc.set("global", "index-url", "https://new/simple", normalize_key)
    assert _values(doc.text())["global"]["index-url"] == "https://new/simple"
    assert {k for k in _values(doc.text())["global"]} == {k for k in _values(text)["global"]}
    assert "old" not in doc.text() and "https://b" not in doc.text()
    assert ("# a note" in text) == ("# a note" in doc.text())  # comment lines stay
    doc.remove("global", "index-url", normalize_key)
    assert "index-url" not in _values(doc.text()).get("global", {}) and "simple" not in doc.text()


def test_key_with_its_value_on_the_next_line_keeps_its_spacing():
    doc = IniDocument("[global]\nindex-url =\n    https://old/simple\n", "f")
    doc.set("global", "index-url", "https://new/simple")
    assert doc.text() == "[global]\nindex-url = https://new/simple\n"
    doc = IniDocument("[global]\nindex-url=\n    https://old/simple\n", "f")
    doc.set("global", "index-url", "https://new/simple")
    assert doc.text() == "[global]\nindex-url=https://new/simple\n"


def test_a_new_key_before_an_indented_line_is_indented_as_deep():
    """An indented line after a new option line would continue its value: the new line is indented."""
    text = "[global]\n  [other]\nkey = v\n"
    doc = IniDocument(text, "f")
    doc.set("global", "index-url", "https://new/simple")
    assert _values(doc.text()) == {"global": {"index-url": "https://new/simple"}, "other": {"key": "v"}}


def test_sections_not_edited_stay_text_and_a_default_section_is_handled():
    text = "[global]\nx = 1\n" + "".join(f"[s{i}]\nk = {i}\n" for i in range(100))
    doc = IniDocument(text, "f")
    doc.set("global", "index-url", "https://new/simple")
    assert sum(s.raw is None for s in doc.sections) <= 2  # only [global] (and what is before it) split
    assert doc.text() == text.replace("x = 1\n", "x = 1\nindex-url = https://new/simple\n")
    text = "[DEFAULT]\nshared = 1\n[global]\nx = 1\n"  # no section of its own: ConfigUpdater splits the file
    doc = IniDocument(text, "f")
    doc.set("global", "index-url", "https://new/simple")
    assert doc.text() == "[DEFAULT]\nshared = 1\n[global]\nx = 1\nindex-url = https://new/simple\n"
