import pytest

from minitpl import TemplateError, render
from notify import User, shipped_mail


class Obj:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_tags_with_and_without_spaces():
    ctx = {"name": "ada"}
    assert render("{{name}}|{{ name }}|{{  name  }}", ctx) == "ada|ada|ada"


def test_filters_with_spaces():
    assert render("{{ name | upper }}", {"name": "ada"}) == "ADA"
    assert render("{{ n|money }}", {"n": 123456}) == "1,234.56"


def test_filter_argument_with_blanks():
    assert render("{{ eta|default:within a week }}.", {"eta": None}) == "within a week."
    assert render("{{ eta | default: soon }}", {"eta": ""}) == "soon"
    assert render("{{ eta|default:soon }}", {"eta": "Monday"}) == "Monday"


def test_dotted_lookup_dicts_and_objects():
    ctx = {"user": Obj(name="ada", address={"city": "London"})}
    assert render("{{ user.address.city|upper }}", ctx) == "LONDON"


def test_missing_name_raises_with_expression():
    with pytest.raises(TemplateError, match=r"order\.idd"):
        render("{{ order.idd }}", {"order": {"id": 7}})
    with pytest.raises(TemplateError, match="nobody"):
        render("{{ nobody }}", {})
    with pytest.raises(TemplateError, match=r"user\.phone"):
        render("{{ user.phone }}", {"user": Obj(name="x")})


def test_none_value_is_empty_not_error():
    assert render("[{{ x }}]", {"x": None}) == "[]"


def test_unknown_filter():
    with pytest.raises(TemplateError, match="shout"):
        render("{{ x|shout }}", {"x": 1})


def test_text_without_tags_untouched():
    text = "no tags { here } {{ not closed"
    assert render(text, {}) == text


def test_shipped_mail():
    mail = shipped_mail(User("ada lovelace", "ada@example.org"), {"id": "A-17", "total": 4990, "eta": None})
    assert mail == (
        "Hello Ada Lovelace,\n\n"
        "your order A-17 (49.90 EUR) has shipped.\n"
        "Expected delivery: within a week.\n"
    )
