"""k8s_data.adapt: the retrieved manifest edited by the differences between its train intent and the request.

Hand-checked cases: which literals pair (and which must not), where values are rewritten (and where not), when a
namespace is added; then the bank (`adapt_exemplar`) and evaluate_models' `bm25+adapt` row.
"""

import pytest
import yaml

from k8s_data import PatternBank, RetrievalConfig, retrieve_manifest
from k8s_data.adapt import adapt_manifest, add_namespace, intent_substitutions, literal_class, substitute_values

POD = """apiVersion: v1
kind: Pod
metadata:
  name: cpu-demo
  labels:
    app: cpu-demo
spec:
  containers:
  - name: cpu-demo-ctr
    image: vish/stress
    ports:
    - containerPort: 8080
"""


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("3", "number"),  # replicas, ports
        ("5Gi", "quantity"),
        ("nginx:1.25", "image"),  # a tag or a registry path makes an image
        ("ghcr.io/org/app", "image"),
        ("MODEL_NAME", "constant"),  # an environment variable
        ("cpu-demo", "name"),
        ("web", None),  # a plain word may be prose ("using", "replicas"): a name only when quoted, see below
        ("app=web", "pair"),
        ("db", None),  # too short to rewrite safely
        ("Deployment", None),  # prose / a kind, not a literal
        (",", None),
    ],
)
def test_literal_class(word, expected):
    assert literal_class(word) == expected


def test_a_quoted_plain_word_is_a_name():
    assert literal_class("web", quoted=True) == "name" and literal_class("db", quoted=True) is None


def test_substitutions_pair_literals_slot_by_slot():
    assert intent_substitutions('a Deployment "web" with 3 replicas', 'a Deployment "api" with 5 replicas') == {
        "web": "api",
        "3": "5",
    }
    # quotes do not shift the alignment; the same literal on both sides maps to nothing
    assert intent_substitutions('a Pod "qos-demo", running nginx', "a Pod qos-demo-3, running nginx") == {
        "qos-demo": "qos-demo-3"
    }
    # key=value selectors map their parts too
    subs = intent_substitutions("a Service for pods with app=web", "a Service for pods with app=shop")
    assert subs == {"app=web": "app=shop", "web": "shop"}
    # an unquoted plain word is not a name: nothing to pair
    assert intent_substitutions("a Pod called web", "a Pod called shop") == {}


def test_substitutions_never_pair_literals_of_different_classes():
    # misaligned phrases: a number must not become an image, an image not a name (both happened before the classes)
    # difflib aligns "6 replicas" with "image hello-app-redis:1.0" here
    subs = intent_substitutions(
        "I need a Deployment web, with 6 replicas, using the image hello-app:1.0.",
        "Define a Deployment called hello-web in the default namespace, scaled to 3 replicas, with image "
        "hello-app-redis:1.0, with readiness probe.",
    )
    assert "6" not in subs and "replicas" not in subs and "using" not in subs  # prose never pairs
    # one image on each side pairs however the phrases align (GLOBAL_CLASSES)
    assert subs == {"hello-app:1.0": "hello-app-redis:1.0"}


def test_substitute_values_rewrites_values_and_derived_values_but_not_keys():
    text = "cpu-demo:\n  name: cpu-demo\n  hook: cpu-demohook\n  other: my.cpu-demo\n  sel: app=cpu-demo\n"
    out = substitute_values(text, {"cpu-demo": "web"})
    assert out == "cpu-demo:\n  name: web\n  hook: cpu-demohook\n  other: my.cpu-demo\n  sel: app=web\n"
    # a derived name (`cpu-demo-ctr`) follows its base; the longest literal wins over its prefix
    out = substitute_values(POD, {"cpu-demo": "web", "cpu-demo-ctr": "main"})
    assert "  name: web\n" in out and "  - name: main\n" in out and "app: web" in out
    assert substitute_values(POD, {}) == POD


def test_add_namespace_only_when_the_request_names_one_the_train_intent_did_not():
    out = add_namespace(POD, "a Pod cpu-demo", "a Pod cpu-demo in the shop namespace")
    assert yaml.safe_load(out)["metadata"]["namespace"] == "shop"
    assert out.index("namespace: shop") > out.index("name: cpu-demo")  # right after the name, inside metadata
    # the train intent had a namespace: substitution is the right edit, not insertion
    assert add_namespace(POD, "a Pod in the dev namespace", "a Pod in the shop namespace") == POD
    assert add_namespace(POD, "a Pod cpu-demo", "a Pod cpu-demo") == POD  # no namespace asked for
    # a leading document marker is fine; the metadata of a second document is left alone
    out = add_namespace("---\n" + POD, "a Pod", "a Pod in the shop namespace")
    assert yaml.safe_load(out)["metadata"]["namespace"] == "shop"
    two = "apiVersion: v1\nkind: List\n---\n" + POD
    assert add_namespace(two, "a Pod", "a Pod in the shop namespace") == two
    # never a second namespace key
    with_ns = POD.replace("  name: cpu-demo\n", "  name: cpu-demo\n  namespace: dev\n", 1)
    assert add_namespace(with_ns, "a Pod", "a Pod in the shop namespace") == with_ns


def test_adapt_manifest_end_to_end_keeps_valid_yaml():
    source = "Define a Pod named cpu-demo, running vish/stress, with container port 8080."
    intent = (
        "Define a Pod named constraints-cpu-demo-4 in the limits namespace, running vish/stress, with container "
        "port 9090."
    )
    doc = yaml.safe_load(adapt_manifest(POD, source, intent))
    assert doc["metadata"] == {"name": "constraints-cpu-demo-4", "namespace": "limits",
                               "labels": {"app": "constraints-cpu-demo-4"}}  # fmt: skip
    container = doc["spec"]["containers"][0]
    assert container["name"] == "constraints-cpu-demo-4-ctr" and container["image"] == "vish/stress"
    assert container["ports"] == [{"containerPort": 9090}]
    assert adapt_manifest(POD, "", intent) == POD and adapt_manifest("", source, intent) == ""


TRAIN = [
    {"id": "t0", "intent": "Define a Pod named cpu-demo, running vish/stress.", "yaml": POD},
    {"id": "t1", "intent": "A ConfigMap called settings with key mode",
     "yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"},
]  # fmt: skip


def test_bank_adapts_exemplars_and_the_retrieved_answer_only_when_asked():
    bank = PatternBank.from_records(TRAIN)
    intent = "Define a Pod named web-1, running vish/stress."
    plain = bank.pattern_for(intent, RetrievalConfig(pattern_format="exemplar"))
    adapted = bank.pattern_for(intent, RetrievalConfig(pattern_format="exemplar", adapt_exemplar=True))
    assert "name: cpu-demo" in plain and "name: web-1" in adapted and "web-1-ctr" in adapted
    assert retrieve_manifest(intent, bank) == POD
    assert "name: web-1\n" in retrieve_manifest(intent, bank, RetrievalConfig(adapt_exemplar=True))
    # skeletons have no literals to adapt
    skeleton = RetrievalConfig(pattern_format="skeleton")
    assert bank.pattern_for(intent, skeleton) == bank.pattern_for(intent, RetrievalConfig(adapt_exemplar=True))
    # saved and loaded with the model's retrieval settings
    config = RetrievalConfig(pattern_format="exemplar", adapt_exemplar=True)
    assert RetrievalConfig.from_dict(config.to_dict()) == config


def test_evaluate_models_knows_the_adapted_retrieval_row():
    import evaluate_models

    base = evaluate_models.Decoding()
    plain, adapted, model = evaluate_models.parse_model_specs(
        ["retrieval=bm25", "retrieval_adapt=bm25+adapt", "retrieval_model=runs/x/final"], base
    )
    assert plain.is_retrieval and not plain.adapt
    assert adapted.is_retrieval and adapted.adapt and "adapted to the intent" in adapted.describe()
    assert not model.is_retrieval  # a model whose name starts with "retrieval" stays a model
    with pytest.raises(ValueError, match="only @repair"):
        evaluate_models.parse_model_specs(["retrieval_adapt=bm25+adapt@num_beams=2"], base)


CLUSTER_ROLE = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n"


def test_a_namespace_goes_to_the_first_namespaced_document_never_to_a_cluster_scoped_one():
    out = add_namespace(CLUSTER_ROLE + "---\n" + POD, "a Pod", "a Pod in the shop namespace")
    role, pod = (yaml.safe_load(d) for d in out.split("---\n"))
    assert "namespace" not in role["metadata"] and pod["metadata"]["namespace"] == "shop"
    assert add_namespace(CLUSTER_ROLE, "a role", "a role in the shop namespace") == CLUSTER_ROLE
    namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
    out = add_namespace(namespace + "---\n" + POD, "a Pod", "a Namespace shop and a Pod in the shop namespace")
    assert yaml.safe_load(out.split("---\n")[0]) == yaml.safe_load(namespace)  # a Namespace has no namespace


def test_a_differing_namespace_is_swapped_and_prose_is_no_namespace():
    with_ns = POD.replace("  name: cpu-demo\n", "  name: cpu-demo\n  namespace: dev\n", 1)
    out = add_namespace(with_ns, "a Pod in the dev namespace", "a Pod in the shop namespace")
    assert yaml.safe_load(out)["metadata"]["namespace"] == "shop"
    # "in the same namespace" names no namespace
    assert add_namespace(POD, "a Pod", "a NetworkPolicy for pods in the same namespace") == POD


def test_a_number_is_replaced_only_where_it_occurs_once():
    deployment = "kind: Deployment\nspec:\n  replicas: 3\n  revisionHistoryLimit: 3\n"
    source, intent = "a Deployment web-app with 3 replicas", "a Deployment web-app with 5 replicas"
    assert adapt_manifest(deployment, source, intent) == deployment  # which 3 is the replica count? leave both
    single = "kind: Deployment\nspec:\n  replicas: 3\n"
    assert adapt_manifest(single, source, intent) == single.replace("3", "5")


def test_image_values_take_only_image_literals():
    # the name "nginx" pairs with "web"; the container image "nginx" must not become "web"
    text = "metadata:\n  name: nginx\nspec:\n  containers:\n  - name: nginx\n    image: nginx\n"
    out = substitute_values(text, {"nginx": "web"})
    assert "  name: web\n" in out and "  - name: web\n" in out and "image: nginx" in out
    assert "image: httpd:2" in substitute_values("    image: nginx:1.25\n", {"nginx:1.25": "httpd:2"})
