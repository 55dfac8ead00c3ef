"""API-server validation rules (k8s_scoring.api_rules) and the validity they feed: one table case per rule.

Each case names the Kubernetes validation it mirrors (kubernetes/kubernetes, pkg/apis/<group>/validation) and says
why the manifest is (in)valid. Expectations were checked by hand against the upstream functions.
"""

from __future__ import annotations

import copy

import pytest
import yaml

from k8s_scoring import validate
from k8s_scoring.api_rules import API_RULES, API_RULES_BY_ID, cron_problem, parse_quantity

DEPLOYMENT = yaml.safe_load("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80, name: http}]
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}
""")


def deployment(**changes) -> str:
    """The valid DEPLOYMENT with dotted-path changes, e.g. ``{"spec.replicas": -1}`` (``containers.0`` indexes)."""
    obj = copy.deepcopy(DEPLOYMENT)
    for path, value in changes.items():
        node = obj
        parts = path.split("/")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if value is _DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return yaml.safe_dump(obj)


_DELETE = object()
C0 = "spec/template/spec/containers/0"


def doc(text: str) -> str:
    return text


# (id, manifest, rule id expected or None for valid, path expected)
CASES = [
    # the baseline is valid (no rule fires on a plain, correct Deployment)
    ("valid_deployment", deployment(), None, None),
    # validateContainerPorts: containerPort must be 1-65535
    ("container_port_70000", deployment(**{f"{C0}/ports/0/containerPort": 70000}), "api.port_range",
     "spec.template.spec.containers[0].ports[0].containerPort"),
    # validateContainerPorts: hostPort 0 means "unset" and is fine
    ("host_port_zero_ok", deployment(**{f"{C0}/ports/0/hostPort": 0}), None, None),
    # validateContainerPorts: port names are IANA_SVC_NAMEs (<= 15 chars, a letter, lower-case)
    ("port_name_too_long", deployment(**{f"{C0}/ports/0/name": "http-metrics-port"}), "api.container_ports",
     "spec.template.spec.containers[0].ports[0].name"),
    # ValidateDeploymentSpec: replicas is non-negative
    ("negative_replicas", deployment(**{"spec/replicas": -1}), "api.non_negative", "spec.replicas"),
    # ValidateDeploymentSpec: selector must match the template labels (apps/v1)
    ("selector_mismatch", deployment(**{"spec/selector/matchLabels/app": "api"}),
     "api.selector_matches_template", "spec.template.metadata.labels"),
    # ValidateDeploymentSpec: an empty selector is invalid
    ("empty_selector", deployment(**{"spec/selector": {}}), "api.selector_matches_template", "spec.selector"),
    # ValidatePodSpec: at least one container
    ("no_containers", deployment(**{"spec/template/spec/containers": []}), "api.pod_required",
     "spec.template.spec.containers"),
    # the issue's Deployment with labels and no pod spec: template.spec is required
    ("no_pod_spec", deployment(**{"spec/template/spec": _DELETE}), "api.pod_required", "spec.template.spec"),
    # validateContainers: image is required
    ("no_image", deployment(**{f"{C0}/image": _DELETE}), "api.pod_required", "spec.template.spec.containers[0].image"),
    # validateContainers: container names are DNS-1123 labels
    ("container_name_upper", deployment(**{f"{C0}/name": "Web"}), "api.container_names",
     "spec.template.spec.containers[0].name"),
    # validateInitContainers: names unique across init and app containers
    ("duplicate_container_name", deployment(**{"spec/template/spec/initContainers": [{"name": "web",
     "image": "busybox:1.36"}]}), "api.container_names", "spec.template.spec.initContainers[0].name"),
    # validatePullPolicy
    ("pull_policy_enum", deployment(**{f"{C0}/imagePullPolicy": "Sometimes"}), "api.container_enums",
     "spec.template.spec.containers[0].imagePullPolicy"),
    # validateContainerPorts (supportedPortProtocols): protocols are upper-case
    ("protocol_lowercase", deployment(**{f"{C0}/ports/0/protocol": "tcp"}), "api.protocol",
     "spec.template.spec.containers[0].ports[0].protocol"),
    # ValidateResourceRequirements: requests <= limits
    ("request_above_limit", deployment(**{f"{C0}/resources/requests/cpu": "1"}), "api.resources",
     "spec.template.spec.containers[0].resources.requests.cpu"),
    # ValidateResourceRequirements: quantities parse
    ("bad_quantity", deployment(**{f"{C0}/resources/limits/memory": "128MB"}), "api.resources",
     "spec.template.spec.containers[0].resources.limits.memory"),
    # ValidateResourceRequirements: an extended resource needs a limit equal to its request
    ("gpu_request_without_limit", deployment(**{f"{C0}/resources/requests/nvidia.com~gpu": 1}), "api.resources",
     "spec.template.spec.containers[0].resources.requests.nvidia.com/gpu"),
    # ValidateResourceRequirements: a limit alone is fine (the request defaults to it)
    ("gpu_limit_only_ok", deployment(**{f"{C0}/resources/limits/nvidia.com~gpu": 1}), None, None),
    # ValidatePodTemplateSpecForReplicaSet: controller pods restart Always
    ("deployment_restart_never", deployment(**{"spec/template/spec/restartPolicy": "Never"}),
     "api.job_restart_policy", "spec.template.spec.restartPolicy"),
    # ValidateSecurityContext: allowPrivilegeEscalation false with privileged true
    ("privileged_no_escalation", deployment(**{f"{C0}/securityContext": {"privileged": True,
     "allowPrivilegeEscalation": False}}), "api.security_context_conflicts",
     "spec.template.spec.containers[0].securityContext"),
    # ValidateSecurityContext compares the literal "CAP_SYS_ADMIN": refused ...
    ("cap_sys_admin_no_escalation", deployment(**{f"{C0}/securityContext": {"allowPrivilegeEscalation": False,
     "capabilities": {"add": ["CAP_SYS_ADMIN"]}}}), "api.security_context_conflicts",
     "spec.template.spec.containers[0].securityContext"),
    # ... while "SYS_ADMIN" is accepted (MetalLB's speaker ships it): must stay valid
    ("sys_admin_no_escalation_ok", deployment(**{f"{C0}/securityContext": {"allowPrivilegeEscalation": False,
     "capabilities": {"add": ["SYS_ADMIN"]}}}), None, None),
    # kubelet verifyRunAsNonRoot: runAsNonRoot true with runAsUser 0 never starts (pod-level runAsUser inherited)
    ("non_root_uid_0", deployment(**{"spec/template/spec/securityContext": {"runAsNonRoot": True, "runAsUser": 0}}),
     "api.run_as_non_root_uid_0", "spec.template.spec.containers[0].securityContext"),
    # validateProbe / validateHandler: exactly one handler
    ("probe_two_handlers", deployment(**{f"{C0}/livenessProbe": {"tcpSocket": {"port": 80},
     "httpGet": {"port": 80}}}), "api.probe_handlers", "spec.template.spec.containers[0].livenessProbe"),
    # validateProbe: liveness successThreshold must be 1
    ("liveness_success_threshold", deployment(**{f"{C0}/livenessProbe": {"tcpSocket": {"port": 80},
     "successThreshold": 2}}), "api.probe_handlers",
     "spec.template.spec.containers[0].livenessProbe.successThreshold"),
    # ValidateVolumeMounts: a mount names an existing volume
    ("mount_unknown_volume", deployment(**{f"{C0}/volumeMounts": [{"name": "data", "mountPath": "/data"}]}),
     "api.volumes", "spec.template.spec.containers[0].volumeMounts[0].name"),
    # ValidateEnv: not both value and valueFrom
    ("env_value_and_value_from", deployment(**{f"{C0}/env": [{"name": "A", "value": "x",
     "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]}), "api.env",
     "spec.template.spec.containers[0].env[0].valueFrom"),
    # validateTopologySpreadConstraints: maxSkew > 0
    ("spread_max_skew_zero", deployment(**{"spec/template/spec/topologySpreadConstraints": [{"maxSkew": 0,
     "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
     "labelSelector": {"matchLabels": {"app": "web"}}}]}), "api.topology_spread",
     "spec.template.spec.topologySpreadConstraints[0].maxSkew"),
    # ValidateDeploymentStrategy: Recreate has no rollingUpdate
    ("recreate_with_rolling_update", deployment(**{"spec/strategy": {"type": "Recreate",
     "rollingUpdate": {"maxSurge": 1}}}), "api.deployment_strategy", "spec.strategy.rollingUpdate"),
    # ValidateObjectMeta: names are DNS-1123 subdomains
    ("name_upper_case", deployment(**{"metadata/name": "Web"}), "api.metadata_names", "metadata.name"),
    # ValidateLabels: values <= 63 characters of [-A-Za-z0-9_.]
    ("label_value_space", deployment(**{"metadata/labels/tier": "front end"}), "api.metadata_names",
     "metadata.labels.tier"),
    # ValidateLabelSelectorRequirement: In needs values
    ("selector_in_without_values", deployment(**{"spec/selector": {"matchLabels": {"app": "web"},
     "matchExpressions": [{"key": "tier", "operator": "In"}]}}), "api.label_selectors",
     "spec.selector.matchExpressions[0].values"),
    # ValidatePersistentVolumeClaimSpec: the issue's PVC, accessModes [Replace] and no storage request
    ("pvc_bad_access_mode", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"
     "spec: {accessModes: [Replace], resources: {requests: {storage: 1Gi}}}\n", "api.access_modes",
     "spec.accessModes[0]"),
    ("pvc_no_storage", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n"
     "spec: {accessModes: [ReadWriteOnce]}\n", "api.pvc_required", "spec.resources.requests.storage"),
    # ValidatePersistentVolumeSpec: capacity and access modes
    ("pv_no_capacity", "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\n"
     "spec: {accessModes: [ReadWriteOnce], hostPath: {path: /d}}\n", "api.pv_required", "spec.capacity.storage"),
    # ValidateService: type enum
    ("service_type", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
     "spec: {type: Public, ports: [{port: 80}]}\n", "api.service_enums", "spec.type"),
    # ValidateService: a port is required (not headless, not ExternalName)
    ("service_no_ports", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n",
     "api.service", "spec.ports"),
    # ValidateService: headless services may have no ports
    ("headless_no_ports_ok", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
     "spec: {clusterIP: None, selector: {app: web}}\n", None, None),
    # ValidateService: several ports need names
    ("service_unnamed_ports", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
     "spec: {ports: [{port: 80}, {port: 443}]}\n", "api.service", "spec.ports[0].name"),
    # ValidateService: Service names are DNS-1035 labels (no leading digit)
    ("service_name_digit", "apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec: {ports: [{port: 80}]}\n",
     "api.metadata_names", "metadata.name"),
    # validateJobSpec: Job pods restart OnFailure or Never, and it must be set
    ("job_restart_missing", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n"
     "    spec: {containers: [{name: j, image: 'busybox:1.36'}]}\n", "api.job_restart_policy",
     "spec.template.spec.restartPolicy"),
    ("job_restart_always", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n"
     "    spec: {restartPolicy: Always, containers: [{name: j, image: 'busybox:1.36'}]}\n",
     "api.job_restart_policy", "spec.template.spec.restartPolicy"),
    # validateScheduleFormat: 5 cron fields, in range
    ("cron_bad_minute", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '61 * * * *'\n"
     "  jobTemplate:\n    spec:\n      template:\n        spec: {restartPolicy: Never, containers: [{name: c, "
     "image: 'busybox:1.36'}]}\n", "api.cron_schedule", "spec.schedule"),
    # ValidateConfigMap: keys are [-._a-zA-Z0-9]+ (an integer key is the string "53" and is fine)
    ("configmap_bad_key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {'a b': x}\n",
     "api.config_data", "data.a b"),
    ("configmap_int_key_ok",
     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {53: 'kube-system/dns:53'}\n", None, None),
    # ValidateSecret: data is base64 (plain text belongs in stringData)
    ("secret_plain_text", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: hunter2!}\n",
     "api.config_data", "data.password"),
    # ValidateSecret: a TLS Secret needs tls.crt and tls.key
    ("tls_secret_keys", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\n"
     "data: {tls.crt: YQ==}\n", "api.config_data", "data[tls.key]"),
    # validateHTTPIngressPath: pathType required; Prefix paths absolute
    ("ingress_no_path_type", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n"
     "  rules: [{http: {paths: [{path: /, backend: {service: {name: s, port: {number: 80}}}}]}}]\n",
     "api.ingress", "spec.rules[0].http.paths[0].pathType"),
    # validateHorizontalPodAutoscalerSpec: maxReplicas >= minReplicas
    ("hpa_max_below_min", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
     "spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 2}\n",
     "api.hpa_bounds", "spec.maxReplicas"),
    # ValidatePodDisruptionBudgetSpec: not both minAvailable and maxUnavailable
    ("pdb_both", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
     "spec: {minAvailable: 1, maxUnavailable: 1, selector: {matchLabels: {app: web}}}\n", "api.pdb_exclusive",
     "spec"),
    # validateProvisioner: the issue's StorageClass "kubernetes.io/v1 slow" is not a qualified name
    ("storage_class_provisioner", "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: slow}\n"
     "provisioner: kubernetes.io/v1 slow\n", "api.storage_class", "provisioner"),
    # NetworkPolicy policyTypes
    ("netpol_policy_type", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: n}\n"
     "spec: {podSelector: {}, policyTypes: [Inbound]}\n", "api.network_policy", "spec.policyTypes[0]"),
    # ValidateDeploymentStrategy (enum): strategy type
    ("strategy_enum", deployment(**{"spec/strategy": {"type": "BlueGreen"}}), "api.controller_enums",
     "spec.strategy.type"),
    # validateDNSPolicy
    ("dns_policy_enum", deployment(**{"spec/template/spec/dnsPolicy": "Google"}), "api.pod_enums",
     "spec.template.spec.dnsPolicy"),
    # validateRestartPolicy: the enum itself
    ("restart_policy_enum", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {restartPolicy: Sometimes, "
     "containers: [{name: p, image: 'busybox:1.36'}]}\n", "api.restart_policy", "spec.restartPolicy"),
    # ValidatePersistentVolumeSpec: reclaim policy enum
    ("pv_reclaim_enum", "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {accessModes: "
     "[ReadWriteOnce], capacity: {storage: 1Gi}, persistentVolumeReclaimPolicy: Keep, hostPath: {path: /d}}\n",
     "api.volume_enums", "spec.persistentVolumeReclaimPolicy"),
    # validateMetricSpec: metric types
    ("hpa_metric_type", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: "
     "{scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 2, metrics: [{type: Cpu}]}\n",
     "api.hpa", "spec.metrics[0].type"),
    # validateHorizontalPodAutoscalerSpec: minReplicas >= 1
    ("hpa_min_zero", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: "
     "{scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 0, maxReplicas: 2}\n",
     "api.hpa_range", "spec.minReplicas"),
    # ValidatePodDisruptionBudgetSpec: unhealthyPodEvictionPolicy enum
    ("pdb_policy_enum", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: "
     "{minAvailable: 1, unhealthyPodEvictionPolicy: Never, selector: {matchLabels: {app: web}}}\n", "api.pdb",
     "spec.unhealthyPodEvictionPolicy"),
    # validateProbe: timings are not negative
    ("probe_negative_period", deployment(**{f"{C0}/readinessProbe": {"tcpSocket": {"port": 80}, "periodSeconds": -5}}),
     "api.probes", "spec.template.spec.containers[0].readinessProbe.periodSeconds"),
    # validateEmptyDirVolumeSource: sizeLimit is a quantity
    ("empty_dir_size", deployment(**{"spec/template/spec/volumes": [{"name": "t", "emptyDir": {"sizeLimit": "1GB"}}]}),
     "api.quantities", "spec.template.spec.volumes[0].emptyDir.sizeLimit"),
    # ValidateReplicationControllerSpec: the map selector matches the template labels
    ("rc_selector", "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}\nspec:\n  selector: {app: a}\n"
     "  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: r, image: 'busybox:1.36'}]}\n",
     "api.rc_selector_matches_template", "spec.template.metadata.labels"),
    # validateHTTPIngressPath (enum): pathType is case-sensitive
    ("ingress_path_type_case", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n"
     "  rules: [{http: {paths: [{path: /, pathType: prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]\n",
     "api.ingress_paths", "spec.rules[0].http.paths[0].pathType"),
    # validateIngressBackend: service port number in range
    ("ingress_port_range", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n"
     "  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 0}}}}]}}]\n",
     "api.port_range", "spec.rules[0].http.paths[0].backend.service.port.number"),
    # StatefulSet: a mount may name a volumeClaimTemplate (not a volume of the pod spec)
    ("statefulset_claim_mount_ok", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n"
     "  selector: {matchLabels: {app: db}}\n  serviceName: db\n  template:\n    metadata: {labels: {app: db}}\n"
     "    spec: {containers: [{name: db, image: 'postgres:16', volumeMounts: [{name: data, mountPath: /d}]}]}\n"
     "  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: "
     "{requests: {storage: 1Gi}}}}]\n", None, None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "rule", "path"), CASES, ids=[c[0] for c in CASES])
def test_api_rule_cases(name, text, rule, path):
    text = text.replace("~", "/")  # "nvidia.com~gpu": a slash inside one path segment of `deployment()`
    validity = validate(text)
    assert validity.yaml_valid
    if rule is None:
        assert validity.schema_valid, validity.errors
        return
    assert not validity.schema_valid
    found = {(issue.rule, issue.path) for issue in validity.issues}
    assert (rule, path) in found, found


def test_issue_examples_have_paths_in_the_error_text():
    text = deployment(**{f"{C0}/ports/0/containerPort": 70000})
    assert validate(text).errors == [
        "document 0 Deployment/web: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and "
        "65535, inclusive (got 70000)"
    ]


def test_every_rule_cites_kubernetes_and_is_exercised():
    exercised = {case[2] for case in CASES if case[2]}
    for rule in API_RULES:
        assert rule.mirrors and ("pkg/" in rule.mirrors or "staging/" in rule.mirrors), rule.id
    # every rule has at least one failing table case above
    assert set(API_RULES_BY_ID) == exercised, set(API_RULES_BY_ID) ^ exercised


@pytest.mark.parametrize(
    ("schedule", "ok"),
    [
        ("*/5 * * * *", True),  # every 5 minutes
        ("0 3 * * MON-FRI", True),  # names in the day-of-week field
        ("@daily", True),  # a descriptor
        ("@every 1h30m", True),  # robfig's @every with a Go duration
        ("0 0 ? * *", True),  # '?' in a day field
        ("* * * *", False),  # four fields
        ("60 * * * *", False),  # minute out of range
        ("0 0 * 13 *", False),  # month out of range
        ("5-1 * * * *", False),  # reversed range
        ("TZ=UTC 0 0 * * *", False),  # TZ is refused since 1.27 (use spec.timeZone)
        ("*/0 * * * *", False),  # zero step
    ],
)
def test_cron(schedule, ok):
    assert (cron_problem(schedule) is None) is ok, cron_problem(schedule)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("500m", "0.5"), ("1Gi", str(2**30)), ("1.5", "1.5"), (2, "2"), ("2e3", "2000"), ("128MB", None), ("", None),
     ("1 Gi", None), (True, None)],
)  # fmt: skip
def test_quantity(value, expected):
    parsed = parse_quantity(value)
    assert (None if parsed is None else str(parsed.normalize()) if "e" not in str(parsed) else str(int(parsed))) == (
        expected if expected is None else str(type(parsed)(expected).normalize())
    )


# (name, text, yaml_valid, schema_valid, text expected in the first error)
VALIDITY_CASES = [
    # the issue's ConfigMap with `data:` twice: a YAML error ("mapping key already defined", as kubectl says)
    ("duplicate_top_level_key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\ndata: {c: d}\n",
     False, False, "mapping key 'data' already defined (first at line 4)"),
    # duplicates anywhere, e.g. repeated `labels:` deep in a template
    ("duplicate_nested_key", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b}\n  labels: {c: d}\n"
     "spec: {containers: [{name: p, image: 'nginx:1.27'}]}\n", False, False, "mapping key 'labels' already defined"),
    # flow mappings too
    ("duplicate_flow_key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, name: d}\n", False, False,
     "mapping key 'name' already defined"),
    # the slow path (merge keys) is checked on the node graph; an explicit key may override a merged one
    ("merge_override_ok", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nx: &base {k: 1}\n"
     "data: {<<: *base, k: '2'}\n", True, False, "x"),  # (x is an unknown field of ConfigMap: schema error only)
    ("merge_with_duplicate", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nx: &base {k: 1}\n"
     "data: {<<: *base, j: '1', j: '2'}\n", False, False, "mapping key 'j' already defined"),
    # the issue's `apiVersion: l limits.io/v1` + `kind: Secret`: malformed group, invalid (not an unchecked CR)
    ("malformed_api_version", "apiVersion: l limits.io/v1\nkind: Secret\nmetadata: {name: s}\n", True, False,
     "the group 'l limits.io' is not a valid DNS subdomain"),
    ("malformed_version", "apiVersion: example.com/V1\nkind: Widget\nmetadata: {name: w}\n", True, False,
     "the version 'V1' is not a valid version name"),
    ("malformed_kind", "apiVersion: example.com/v1\nkind: Wid get\nmetadata: {name: w}\n", True, False,
     "kind 'Wid get' is not a valid kind name"),
    # a built-in group at a version 1.33 does not serve
    ("not_served", "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\n", True, False,
     "extensions/v1beta1 Ingress is not served by Kubernetes 1.33.0"),
    # unknown fields stay schema errors, now with a bracketed path
    ("unknown_field", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: p, "
     "image: 'nginx:1.27', imagee: x}]}\n", True, False, "spec.containers[0]: Additional properties"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "yaml_ok", "schema_ok", "message"), VALIDITY_CASES,
                         ids=[c[0] for c in VALIDITY_CASES])  # fmt: skip
def test_validity_cases(name, text, yaml_ok, schema_ok, message):
    validity = validate(text)
    assert (validity.yaml_valid, validity.schema_valid) == (yaml_ok, schema_ok), validity.errors
    assert message in validity.errors[0], validity.errors

