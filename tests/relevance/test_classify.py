"""The first relevance scorer on real text: the seeds, labelled articles, off-topic pages."""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from typing import Any

import numpy as np
import pytest

from tests.conftest import ROOT, shared_path
from watcher.relevance.classify import TIES, Example, KeywordClassifier, scan
from watcher.relevance.model import load_model
from watcher.relevance.similarity import vector
from watcher.relevance.teach import WORDING_FILE

CLASSIFIER = KeywordClassifier(0.5)


def test_every_seed_is_relevant_with_evidence() -> None:
    """The five seeds define the beat: each must be judged relevant, with reasons."""
    seeds = sorted(shared_path("seeds").glob("*.txt"))
    assert len(seeds) == 5
    for seed in seeds:
        verdict = CLASSIFIER.classify(None, seed.read_text(encoding="utf-8"), "en")
        assert verdict.relevant, seed.name
        assert verdict.labels
        assert set(verdict.labels) <= set(TIES)
        # quoted sentences, then a note in brackets where the wording was read too
        sentences = [line for line in verdict.evidence if not line.startswith("(unsure ")]
        assert 1 <= len(sentences) <= 3
        assert all(sentence in seed.read_text(encoding="utf-8") for sentence in sentences)


def test_precision_and_recall_on_labelled_articles_stay_above_floor() -> None:
    """A floor under the figures bench/relevance.py prints (0.980 / 0.980 when written:
    in-sample, on the labels the forest was fitted on; the cross-validated figures,
    below, are the ones that say how well it generalises)."""
    folder = shared_path("eval", "relevance")
    articles_text = (folder / "articles.jsonl").read_text(encoding="utf-8")
    articles = {a["id"]: a for a in map(json.loads, articles_text.splitlines())}
    labels = _script("train_relevance").fitted_labels(folder)
    assert len(labels) >= 310, "both rounds' judged labels"
    tp = fp = fn = 0
    for label in labels:
        article = articles[label["id"]]
        got = CLASSIFIER.classify(article["title"], article["text"], article["lang"]).relevant
        want = label["verdict"] == "relevant"
        tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
    assert tp / (tp + fp) >= 0.97
    assert tp / (tp + fn) >= 0.97


def test_cross_validated_relevance_stays_above_floor() -> None:
    """The training script's first split, every article scored by a model fitted
    without its fold: F1 0.810 when written (0.745 with the boosted trees and the
    lexicon before source spans and "the South")."""
    train = _script("train_relevance")
    data = train.samples(shared_path("eval", "relevance"))
    relevant, _tie_scores = train._predict_folds(data, 1.0, 0)
    truth = {sample_id: label for sample_id, _values, label in data.articles}
    ids = sorted(truth)
    assert train._f1([relevant[i] for i in ids], [truth[i] for i in ids]) >= 0.78


# Texts of our own, one per tie and language, and off-beat texts with the keyword traps
# the issue names ("남북" of the Taiwan strait, "개성" as individuality, K-pop "Korea").
OWN_RELEVANT = {
    (
        "inter-korean",
        "en",
    ): " ".join(
        (
            "North Korea cut the last hotline with South Korea on Monday.",
            "Seoul said the decision would raise military tension along the border.",
            "The two Koreas have not held talks since 2019, and Pyongyang has abandoned the "
            "goal of unification.",
            "South Korea's unification ministry urged the North to return to dialogue.",
        )
    ),
    (
        "russia-nk",
        "en",
    ): " ".join(
        (
            "Russia and North Korea signed a treaty on comprehensive strategic partnership in "
            "Pyongyang.",
            "Under the pact, Moscow and Pyongyang pledge military assistance if either is "
            "attacked.",
            "North Korean troops have since been deployed to Russia's Kursk region, and North "
            "Korea has supplied munitions and missiles to the Russian army.",
        )
    ),
    (
        "russia-sk",
        "en",
    ): " ".join(
        (
            "South Korea and Russia held talks in Moscow on trade and energy.",
            "Seoul wants to protect South Korean firms in Russia, such as Hyundai and "
            "Samsung, from sanctions.",
            "Russia warned South Korea against supplying weapons to Ukraine, saying it would "
            "damage relations between Moscow and Seoul.",
        )
    ),
    (
        "inter-korean",
        "ko",
    ): " ".join(
        (
            "북한이 남북 간 통신선을 모두 끊었다.",
            "통일부는 북한에 대화 복귀를 촉구했다.",
            "정부는 북한의 오물 풍선과 대북 전단 문제로 남북 관계의 긴장이 높아지고 있다고 밝혔다.",
        )
    ),
    (
        "russia-nk",
        "ko",
    ): " ".join(
        (
            "러시아와 북한이 포괄적 전략 동반자 조약을 체결했다.",
            "북한군이 러시아 쿠르스크 지역에 파병됐다.",
            "북한은 러시아에 포탄과 미사일을 공급하고 있으며 러시아는 북한에 군사 기술을 "
            "이전하고 있다.",
        )
    ),
    (
        "russia-sk",
        "ko",
    ): " ".join(
        (
            "한국과 러시아가 모스크바에서 교역과 에너지 협력을 논의했다.",
            "정부는 러시아에 진출한 한국 기업을 제재로부터 보호하려 한다.",
            "러시아는 한국이 우크라이나에 무기를 지원하면 한러 관계가 파탄날 것이라고 경고했다.",
        )
    ),
    (
        "inter-korean",
        "ru",
    ): " ".join(
        (
            "КНДР разорвала все линии связи с Южной Кореей.",
            "Сеул призвал Пхеньян вернуться к переговорам.",
            "Межкорейские отношения переживают худший период за многие годы, напряженность на "
            "границе растет.",
        )
    ),
    (
        "russia-nk",
        "ru",
    ): " ".join(
        (
            "Россия и КНДР подписали договор о всеобъемлющем стратегическом партнерстве.",
            "Москва и Пхеньян обязались оказывать друг другу военную помощь.",
            "Северокорейские войска были направлены в Курскую область России.",
        )
    ),
    (
        "russia-sk",
        "ru",
    ): " ".join(
        (
            "Россия и Южная Корея обсудили в Москве торговлю и энергетику.",
            "Сеул стремится защитить южнокорейские компании в России от санкций.",
            "Москва предупредила Сеул, что поставки оружия Украине разрушат отношения двух стран.",
        )
    ),
    (
        "inter-korean",
        "de",
    ): " ".join(
        (
            "Nordkorea hat alle Verbindungen zu Südkorea gekappt.",
            "Seoul forderte Pjöngjang zur Rückkehr an den Verhandlungstisch auf.",
            "Die innerkoreanischen Beziehungen sind so schlecht wie seit Jahren nicht, die "
            "Spannungen an der Grenze wachsen.",
        )
    ),
    (
        "russia-nk",
        "de",
    ): " ".join(
        (
            "Russland und Nordkorea haben einen Vertrag über eine umfassende strategische "
            "Partnerschaft unterzeichnet.",
            "Moskau und Pjöngjang sagen sich militärischen Beistand zu.",
            "Nordkoreanische Truppen wurden in die russische Region Kursk verlegt.",
        )
    ),
    (
        "russia-sk",
        "de",
    ): " ".join(
        (
            "Russland und Südkorea haben in Moskau über Handel und Energie gesprochen.",
            "Seoul will südkoreanische Firmen in Russland vor Sanktionen schützen.",
            "Moskau warnte Seoul, Waffenlieferungen an die Ukraine würden die Beziehungen "
            "zerstören.",
        )
    ),
}
OWN_IRRELEVANT = {
    "taiwan-trap-ko": "중국군이 대만 남북 해역에서 대규모 포위 훈련을 벌였다. 대만 국방부는 "
    "중국 군함과 전투기의 움직임을 감시하고 있다고 밝혔다.",
    "gaeseong-trap-ko": "이번 패션쇼는 디자이너의 개성이 돋보이는 작품으로 가득했다. 관객들은 "
    "각자의 개성을 살린 스타일에 박수를 보냈다.",
    "kpop-en": " ".join(
        (
            "The K-pop group from South Korea sold out its world tour.",
            "Fans in Seoul and Tokyo queued overnight for tickets.",
            "The band's label said a new album is due in the spring.",
        )
    ),
    "kor-economy-ko": "한국은행이 기준금리를 동결했다. 서울 아파트 가격 상승세가 이어지고 "
    "있으며 수출은 반도체 호조로 증가했다.",
    "ru-domestic": " ".join(
        (
            "Госдума приняла закон о повышении налогов.",
            "Путин подписал указ о новых выплатах семьям.",
            "В Москве открылась новая линия метро.",
        )
    ),
    "de-sport": " ".join(
        (
            "Bayern München gewann das Spiel gegen Dortmund mit 3:1.",
            "Der Trainer lobte die Mannschaft nach dem Sieg in der Bundesliga.",
        )
    ),
    "nk-domestic-en": " ".join(
        (
            "North Korea's leader Kim Jong Un inspected a new greenhouse farm in Pyongyang.",
            "State media said the farm would supply fresh vegetables to the capital's residents.",
        )
    ),
    "ru-ukraine-en": " ".join(
        (
            "Russia launched a massive drone attack on Kyiv overnight.",
            "Ukraine's air force said it shot down most of the drones.",
            "Moscow said it targeted military facilities.",
        )
    ),
}


@pytest.mark.parametrize(("tie", "language"), list(OWN_RELEVANT))
def test_each_tie_in_each_language(tie: str, language: str) -> None:
    verdict = CLASSIFIER.classify(None, OWN_RELEVANT[(tie, language)], language)
    assert verdict.relevant
    assert verdict.labels == (tie,)
    assert verdict.evidence


@pytest.mark.parametrize("name", list(OWN_IRRELEVANT))
def test_off_beat_texts_and_traps_are_not_relevant(name: str) -> None:
    verdict = CLASSIFIER.classify(None, OWN_IRRELEVANT[name], None)
    assert not verdict.relevant
    assert verdict.labels == ()


def test_irrelevant_verdict_names_the_closest_sentence() -> None:
    """A "no" on a text naming a party says which sentence came closest."""
    verdict = CLASSIFIER.classify(None, OWN_IRRELEVANT["nk-domestic-en"], "en")
    assert not verdict.relevant
    assert verdict.evidence == (
        "North Korea's leader Kim Jong Un inspected a new greenhouse farm in Pyongyang.",
    )


@pytest.mark.parametrize(
    "text", ["", "   \n\t  ", "<html><body><div></div></body></html>", "......", "\x00\x01"]
)
def test_empty_and_markup_only_texts(text: str) -> None:
    verdict = CLASSIFIER.classify(text, text, None)
    assert (verdict.relevant, verdict.score, verdict.labels) == (False, 0.0, ())


def test_a_megabyte_of_text_is_classified() -> None:
    """1 MB: a clear verdict, no crash (a deadline in the test only catches a hang)."""
    body = OWN_RELEVANT[("russia-nk", "en")] + " " + "The weather stayed mild all week. " * 30_000
    assert len(body) > 1_000_000
    verdict = CLASSIFIER.classify("Weather", body, "en")
    assert 0.0 <= verdict.score <= 1.0
    assert not verdict.relevant, "a passing paragraph in a megabyte of weather"


@pytest.mark.parametrize(
    ("text", "tie"),
    [
        (
            "Russia and North Korea signed a treaty on military cooperation in Pyongyang. " * 3,
            "russia-nk",
        ),
        (
            "South Korea and Russia discussed trade and energy in Moscow on Monday. " * 3,
            "russia-sk",
        ),
        ("Inter-Korean talks at Panmunjom resumed between the two Koreas. " * 3, "inter-korean"),
        ("러시아와 북한이 군사 협력을 강화하고 있다고 정부가 밝혔다. " * 3, "russia-nk"),
        (
            "Россия и КНДР подписали договор о всеобъемлющем стратегическом партнерстве. " * 3,
            "russia-nk",
        ),
    ],
)
def test_each_tie_is_labelled(text: str, tie: str) -> None:
    verdict = CLASSIFIER.classify(None, text, None)
    assert verdict.relevant
    assert tie in verdict.labels


def test_passing_mention_in_a_long_article_is_not_relevant() -> None:
    body = "The central bank kept interest rates unchanged as inflation eased this quarter. " * 60
    text = body + "Analysts also noted tension between North Korea and South Korea."
    assert not CLASSIFIER.classify("Rates on hold", text, "en").relevant


def test_deterministic() -> None:
    text = "Moscow and Pyongyang expanded rail links. Seoul protested. " * 5
    assert CLASSIFIER.classify("t", text, "en") == CLASSIFIER.classify("t", text, "en")


def test_anchor_shortcut_changes_no_verdict() -> None:
    """Skipping texts without any anchor word gives the same verdicts as scoring them.

    (Not the same evidence: with no Korean party named there is no sentence that came
    close to a tie, so the shortcut offers none.)"""
    folder = shared_path("eval", "relevance")
    texts = [
        (a["title"], a["text"])
        for a in map(
            json.loads, (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
        )
    ]
    texts += [(None, p.read_text(encoding="utf-8")) for p in shared_path("seeds").glob("*.txt")]
    skipped = 0
    for title, text in texts:
        full = CLASSIFIER._classify(title, text)
        quick = CLASSIFIER.classify(title, text, None)
        assert (quick.relevant, quick.score, quick.labels) == (
            full.relevant,
            full.score,
            full.labels,
        )
        skipped += full.score == 0
    assert skipped > 0
    # The shortcut exists: off-beat texts are ruled out before any pattern runs.
    lexicon = CLASSIFIER.lexicon
    assert not lexicon.may_score(OWN_IRRELEVANT["de-sport"])
    assert not lexicon.may_score(OWN_IRRELEVANT["ru-domestic"])
    assert lexicon.may_score(OWN_RELEVANT[("russia-nk", "ko")])


def _script(name: str) -> Any:
    """A module of scripts/, imported as the script imports its neighbours."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_shipped_model_is_reproduced_by_the_training_script() -> None:
    """scripts/train_relevance.py makes watcher/data/relevance_model.json from ../shared."""
    folder = shared_path("eval", "relevance")
    train = _script("train_relevance")
    shipped = load_model()
    data = train.samples(folder)
    for tie, samples in data.ties.items():
        fitted = train.fit(samples, l2=1.0)
        assert fitted.bias == pytest.approx(shipped.ties[tie].bias, abs=1e-4)
        assert fitted.weights == pytest.approx(shipped.ties[tie].weights, abs=1e-4)
    trees = train.fit_trees(data.articles)
    assert (trees.init, trees.rate, trees.top) == (
        shipped.relevance.init,
        shipped.relevance.rate,
        shipped.relevance.top,
    )
    assert len(trees.trees) == len(shipped.relevance.trees)
    for values in (sample[1] for sample in data.articles):
        assert trees.probability(values) == pytest.approx(
            shipped.relevance.probability(values), abs=1e-9
        )
    # The wording's encoder runs on the BLAS kernels OpenBLAS picks for the CPU, which round
    # differently in the last bits: on an AVX2 machine (Haswell kernels) 0.35 % of the
    # shipped float16 embeddings came out one or two float16 steps away, which moved the 512
    # weights of the regression by 2e-5 of their norm and its probabilities by 5e-6. What is
    # held is what the script makes, well within what a changed example or setting moves.
    embedded = train.training_set(data).wording.astype(np.float16).astype(np.float64)
    examples = np.load(WORDING_FILE)
    assert examples.dtype == np.float16
    shipped_embedded = examples.astype(np.float64)
    steps = np.abs(np.spacing(examples)).astype(np.float64)
    assert np.all(np.abs(embedded - shipped_embedded) <= 2 * steps)
    assert np.mean(embedded == shipped_embedded) > 0.99
    words = train.fit_words(data, data.articles)
    assert shipped.wording is not None
    assert words.bias == pytest.approx(shipped.wording.bias, abs=1e-4)
    fitted_weights = np.array(words.weights)
    shipped_weights = np.array(shipped.wording.weights)
    drift = np.linalg.norm(fitted_weights - shipped_weights) / np.linalg.norm(shipped_weights)
    assert drift < 2e-4
    for row in shipped_embedded:
        assert words.probability(row) == pytest.approx(shipped.wording.probability(row), abs=1e-4)


def test_the_comparison_scores_the_shipped_learner_as_training_does() -> None:
    """scripts/relevance_alternatives.py's baseline is the shipped model's procedure: on
    the first split, its verdict on every article is the training script's."""
    folder = shared_path("eval", "relevance")
    train = _script("train_relevance")
    compare = _script("relevance_alternatives")
    data = compare.load(folder)
    shipped = next(iter(compare._candidates(data).values()))
    said = compare.verdicts(shipped, data, 0)
    expected, _tie_scores = train._predict_folds(train.samples(folder), 1.0, 0)
    assert dict(zip(data.ids, said.tolist(), strict=True)) == expected
    assert 0 < sum(expected.values()) < len(expected)


def _example(title: str, text: str, relevant: bool) -> Example:
    return Example(title, vector(f"{title}\n{text}"), relevant, ())


def test_marks_move_similar_texts_the_same_way() -> None:
    """An article close to one the user marked follows the mark; a distant one does not."""
    marked = OWN_RELEVANT[("russia-nk", "en")]
    similar = marked.replace("Kursk region", "border areas").replace("signed", "concluded")
    distant = OWN_RELEVANT[("inter-korean", "en")]
    plain = KeywordClassifier(0.5)
    taught_no = KeywordClassifier(0.5, examples=[_example("Treaty", marked, relevant=False)])
    taught_yes = KeywordClassifier(0.5, examples=[_example("Treaty", marked, relevant=True)])
    before = plain.classify(None, similar, "en")
    after_no = taught_no.classify(None, similar, "en")
    assert after_no.score < before.score
    assert "(like an article you marked irrelevant: Treaty)" in after_no.evidence
    assert taught_yes.classify(None, similar, "en").score > before.score
    assert taught_no.classify(None, distant, "en") == plain.classify(None, distant, "en")


def test_a_classifier_with_marks_is_shared_without_its_index_and_scores_the_same() -> None:
    """What the workers unpickle leaves out the marks' term index, which each makes at
    its first article; the verdicts are those of the classifier that was shared."""
    marked = OWN_RELEVANT[("russia-nk", "en")]
    similar = marked.replace("Kursk region", "border areas").replace("signed", "concluded")
    taught = KeywordClassifier(0.5, examples=[_example("Treaty", marked, relevant=False)])
    here = taught.classify(None, similar, "en")

    shared = pickle.loads(pickle.dumps(taught))

    assert shared._similar is None
    assert shared.classify(None, similar, "en") == here
    assert shared._similar is not None


def _parties(title: str | None, text: str) -> list[set[str]]:
    return [set(named.parties) for named in scan(title, text).named]


def test_the_norths_full_name_does_not_name_the_south() -> None:
    text = (
        "The Democratic People's Republic of Korea launched a missile on Monday.\n"
        "The Republic of Korea condemned the launch."
    )
    assert _parties(None, text) == [{"north"}, {"south"}]


def test_korean_firms_in_russia_name_the_south() -> None:
    """A short business item names a South Korean firm, not Seoul ("South Korean firms in
    Russia" is a Russia-South Korea matter); the firm's letters inside a word are not it."""
    text = (
        "LG Electronics resumed production at its plant in Ruza outside Moscow.\n"
        "LG전자는 러시아 루자 공장의 가동을 재개했다.\n"
        "오리온은 러시아 트베리 공장에 새 생산라인을 구축했다.\n"
        "Производитель лапши «Доширак» расширяет завод в России."
    )
    assert _parties(None, text) == [{"south", "russia"}] * 4
    found = scan(None, text)
    assert {hit.position for hit in found.hits if hit.tie == "russia-sk"} == {0, 1, 2, 3}
    assert _parties(None, "Bulgaria and Russia signed a gas deal on new algorithms.") == [
        {"russia"}
    ]


def test_pyongyangs_media_name_the_north_in_the_first_person() -> None:
    """In KCNA's copy "we" and "our state" are the North; elsewhere they are nobody."""
    statement = "We will as ever invariably support the just cause of the Russian people."
    dateline = "Pyongyang, September 13 (KCNA) -- The Foreign Ministry released a statement."
    assert _parties(None, f"{dateline}\n{statement}")[1] == {"north", "russia"}
    assert _parties(None, f"Moscow, September 13 -- A statement.\n{statement}")[1] == {"russia"}
    found = scan(None, f"{dateline}\n{statement}")
    assert any(hit.tie == "russia-nk" and hit.sentence == statement for hit in found.hits)


def test_hard_wrapped_lines_are_read_as_the_sentences_they_make() -> None:
    """Statements and PDFs break lines mid-sentence; parties split by a line break are
    still in one sentence, and a text of whole lines keeps its lines as paragraphs."""
    wrapped = "\n".join(
        (
            "The leaders reaffirmed that any nuclear attack by",
            "North Korea against South Korea will be met with a swift,",
            "overwhelming and decisive response.",
            "",
            "They discussed the situation on the peninsula and agreed",
            "to hold further consultations in the",
            "coming months with their partners.",
        )
    )
    found = scan(None, wrapped)
    assert found.sentences[0].startswith("The leaders reaffirmed")
    assert found.named[0].parties == {"north", "south"}
    assert found.paragraphs == (0, 1)
    whole = "North Korea fired a missile.\nSouth Korea said so.\nThe talks failed."
    assert scan(None, "\n".join([whole] * 3)).paragraphs == tuple(range(9))


def test_the_keyword_filter_baseline_wants_both_parties_of_a_tie_named() -> None:
    """The language bar's baseline (scripts/train_relevance.py): both parties of one tie
    named anywhere, in any language the lexicon knows; one party alone is not enough."""
    keyword = _script("train_relevance").keyword_filter
    assert keyword("Talks", "Seoul proposed talks. Days later Pyongyang answered.")
    assert keyword(None, "Путин принял делегацию КНДР в Москве.")
    assert keyword("북한 미사일", "한국 정부는 대응을 논의했다.")
    assert not keyword("Missile test", "North Korea fired a missile into the sea.")
    assert not keyword(None, "Moscow and Beijing signed a trade deal.")
