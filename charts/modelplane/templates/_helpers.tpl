{{/*
modelplane.name: the chart name, or .Values.nameOverride; 63 characters at most (DNS label).
*/}}
{{- define "modelplane.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
modelplane.fullname: the release-qualified name every object is named after, truncated to 63
characters because some Kubernetes name fields are limited to a DNS label. A release named like
the chart is not repeated ("modelplane", not "modelplane-modelplane").
*/}}
{{- define "modelplane.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
modelplane.chart: chart name and version as used by the helm.sh/chart label.
*/}}
{{- define "modelplane.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
modelplane.labels: the standard app.kubernetes.io labels plus helm.sh/chart, on every object.
*/}}
{{- define "modelplane.labels" -}}
helm.sh/chart: {{ include "modelplane.chart" . }}
{{ include "modelplane.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: modelplane
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
modelplane.selectorLabels: the immutable subset of the labels that selects the operator's pods.
*/}}
{{- define "modelplane.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelplane.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
modelplane.serviceAccountName: the operator's ServiceAccount, created or given.
*/}}
{{- define "modelplane.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "modelplane.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
modelplane.image: one image reference from an image block and the root context.
global.imageRegistry replaces the block's own registry (air-gapped mirrors keep repository
paths); a digest wins over a tag; the tag defaults to the chart's appVersion.
Usage: {{ include "modelplane.image" (dict "image" .Values.operator.image "root" $) }}
*/}}
{{- define "modelplane.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry -}}
{{- $ref := .image.repository -}}
{{- if $registry }}{{ $ref = printf "%s/%s" (trimSuffix "/" $registry) .image.repository }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .root.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end }}

{{/*
modelplane.pullSecretNames: global.imagePullSecrets as a list of names; entries may be plain
names or {name: ...} objects, as in other charts' values.
*/}}
{{- define "modelplane.pullSecretNames" -}}
{{- $names := list -}}
{{- range .Values.global.imagePullSecrets -}}
{{- if kindIs "string" . }}{{ $names = append $names . }}{{ else }}{{ $names = append $names .name }}{{ end -}}
{{- end -}}
{{- join "," $names -}}
{{- end }}

{{/*
modelplane.imagePullSecrets: the imagePullSecrets block of a pod spec (nothing when none).
*/}}
{{- define "modelplane.imagePullSecrets" -}}
{{- $names := include "modelplane.pullSecretNames" . -}}
{{- if $names }}
imagePullSecrets:
{{- range splitList "," $names }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
modelplane.watchNamespaces: the namespaces a namespace-scoped operator watches (default: the
release namespace); one per line.
*/}}
{{- define "modelplane.watchNamespaces" -}}
{{- $namespaces := .Values.operator.watch.namespaces | default (list .Release.Namespace) -}}
{{- join "\n" (uniq $namespaces) -}}
{{- end }}

{{/*
modelplane.leaseName: the coordination.k8s.io Lease the operator replicas elect a leader with.
*/}}
{{- define "modelplane.leaseName" -}}
{{- default (include "modelplane.fullname" .) .Values.operator.leaderElection.leaseName -}}
{{- end }}

{{/*
modelplane.namespacedRules: RBAC rules for the objects the operator reads and writes in the
namespaces it serves. Named verbs on named resources, never "*": a ClusterRole's rules when
the operator is cluster-wide, a Role's in each watched namespace otherwise. tests/charts checks
this list covers every kind the operator's code touches.
*/}}
{{- define "modelplane.namespacedRules" -}}
# Its own custom resources: kopf watches them and patches annotations (progress) and status.
- apiGroups: ["modelplane.io"]
  resources: ["modeldeployments", "modelpipelines"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["modelplane.io"]
  resources: ["modeldeployments/status", "modelpipelines/status"]
  verbs: ["get", "patch", "update"]
# Children carry ownerReferences with blockOwnerDeletion, which needs update on finalizers.
- apiGroups: ["modelplane.io"]
  resources: ["modeldeployments/finalizers", "modelpipelines/finalizers"]
  verbs: ["update"]
# KServe children, watched to mirror their status into the owner.
- apiGroups: ["serving.kserve.io"]
  resources: ["inferenceservices", "inferencegraphs"]
  verbs: ["get", "list", "watch", "create", "patch"]
# TensorRT engine-build Jobs, watched to know when a plan is built.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "patch"]
# Triton config.pbtxt ConfigMaps and headless metrics Services (created or patched, never listed).
- apiGroups: [""]
  resources: ["configmaps", "services"]
  verbs: ["get", "create", "patch"]
# Per-deployment ServiceMonitor and SLO PrometheusRule (their API is found by discovery, which
# every authenticated user may read).
- apiGroups: ["monitoring.coreos.com"]
  resources: ["servicemonitors", "prometheusrules"]
  verbs: ["get", "create", "patch"]
# One PodDisruptionBudget per ModelDeployment's predictor pods (maxUnavailable 1).
- apiGroups: ["policy"]
  resources: ["poddisruptionbudgets"]
  verbs: ["get", "create", "patch"]
# KServe's transformer pods, read only: a container OOM-killed becomes the CR's Transformer
# condition (KServe does not report it in the InferenceService).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch"]
# Events for people (kopf posts them through the core v1 API; repeated ones are patched).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
modelplane.clusterRules: RBAC rules that are cluster-scoped whatever the watch scope: kopf
discovers CRDs and namespaces; the operator reads the Nodes' GPU classes.
*/}}
{{- define "modelplane.clusterRules" -}}
# kopf scans CRDs to find the resources it serves.
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch"]
# kopf follows namespaces (namespace globs; cluster-wide serving).
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["list", "watch"]
# GPU node classes: gpu-feature-discovery's nvidia.com/gpu.product label on each Node (read
# only), so an unpinned TensorRT plan is built per class without gpu.products.
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get", "list", "watch"]
{{- end }}

{{/*
modelplane.admissionName: name of the webhook Service, its Certificate, Issuer and TLS Secret
(the fullname, shortened so that "-admission" still fits in 63 characters).
*/}}
{{- define "modelplane.admissionName" -}}
{{- printf "%s-admission" (include "modelplane.fullname" . | trunc 53 | trimSuffix "-") -}}
{{- end }}

{{/*
modelplane.admissionSecret: the Secret holding the webhook's tls.crt/tls.key: the one
cert-manager writes, or admission.existingSecret. Fails rendering when admission is on and
neither is configured: a webhook the API server cannot verify would block every
ModelDeployment and ModelPipeline write (failurePolicy Fail).
*/}}
{{- define "modelplane.admissionSecret" -}}
{{- $a := .Values.admission -}}
{{- if and $a.certManager.enabled $a.existingSecret -}}
{{- fail "admission: set either admission.certManager.enabled or admission.existingSecret (with admission.caBundle), not both" -}}
{{- else if $a.certManager.enabled -}}
{{- printf "%s-tls" (include "modelplane.admissionName" .) -}}
{{- else if and $a.existingSecret $a.caBundle -}}
{{- $a.existingSecret -}}
{{- else if $a.existingSecret -}}
{{- fail "admission.existingSecret needs admission.caBundle: the PEM (or base64 of it) of the CA that signed the Secret's tls.crt, so the API server can verify the webhook" -}}
{{- else -}}
{{- fail "admission.enabled=true needs a certificate: set admission.certManager.enabled=true (cert-manager installed in the cluster) or admission.existingSecret (a kubernetes.io/tls Secret in the release namespace) with admission.caBundle" -}}
{{- end -}}
{{- end }}

{{/*
modelplane.admissionCertDir: where the webhook's TLS Secret is mounted in the operator pod.
*/}}
{{- define "modelplane.admissionCertDir" -}}
/etc/modelplane/admission
{{- end }}
