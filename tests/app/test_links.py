"""studyapp:// links parse into a tab, parameters and a fragment."""
from studyapp.ui.links import make_link, parse_link


def test_parse_link_with_params_and_fragment():
    link = parse_link("studyapp://compare?prompt=france&mode=chat")
    assert link.tab == "compare" and link.params == {"prompt": "france", "mode": "chat"}
    lesson = parse_link("studyapp://lessons?lesson=base-models#the-quiz-sheet")
    assert lesson.params == {"lesson": "base-models"} and lesson.fragment == "the-quiz-sheet"


def test_other_urls_are_not_links():
    assert parse_link("https://example.org/") is None
    assert parse_link("#section") is None
    assert parse_link("studyapp://") is None


def test_make_link_round_trips():
    url = make_link("ppo", preset="beta0")
    assert parse_link(url).params == {"preset": "beta0"}
