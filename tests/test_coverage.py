"""k8s_data.coverage: hand-checked cases of the share of an intent's literals a manifest states."""

import pytest

from k8s_data.coverage import intent_coverage, intent_literals

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: web-ctr
        image: nginx:1.25
        ports:
        - containerPort: 8080
"""


def test_literals_are_the_adaptable_words_of_the_intent_in_order():
    intent = 'A Deployment named "web" with 3 replicas of nginx:1.25 on port 8080, 3 of them ready'
    # "Deployment", "named", "replicas", "port" are prose; the repeated 3 counts once
    assert intent_literals(intent) == ["web", "3", "nginx:1.25", "8080"]
    assert intent_literals("Deploy something small") == []


def test_a_manifest_stating_every_literal_covers_the_intent():
    assert intent_coverage('A Deployment "web" with 3 replicas of nginx:1.25 on port 8080', DEPLOY) == 1.0


def test_each_missing_literal_lowers_the_share():
    # api and 5 are not in the manifest (web-ctr starts with web, so web counts; 8080 is there)
    intent = 'A Deployment "api" with 5 replicas of nginx:1.25 on port 8080'
    assert intent_coverage(intent, DEPLOY) == pytest.approx(2 / 4)


def test_literals_count_only_in_values_and_as_whole_words():
    # "replicas" and "image" are keys of the manifest, not values; 80 is not 8080; web-ctr2 is not web-ctr
    assert intent_literals('Set "replicas" and "image" on 80 for web-ctr2') == ["replicas", "image", "80", "web-ctr2"]
    assert intent_coverage('Set "replicas" and "image" on 80 for web-ctr2', DEPLOY) == 0.0


def test_no_literal_is_no_coverage_not_full_coverage():
    assert intent_coverage("Deploy a web server", DEPLOY) is None
    assert intent_coverage('A Deployment "web"', "") == 0.0
