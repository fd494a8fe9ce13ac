{{/*
modelplane.operatorEnv: the operator's MODELPLANE_* settings (operator/modelplane_operator/
config.py), shared by the operator and the webhook Deployments so both validate and render
with the same configuration.
*/}}
{{- define "modelplane.operatorEnv" -}}
# Every image the operator renders comes from the values, so from global.imageRegistry.
- name: MODELPLANE_IMAGE_REGISTRY
  value: {{ .Values.global.imageRegistry | quote }}
- name: MODELPLANE_INFERENCE_IMAGE
  value: {{ include "modelplane.image" (dict "image" .Values.images.inference "root" $) | quote }}
- name: MODELPLANE_ENGINE_BUILDER_IMAGE
  value: {{ include "modelplane.image" (dict "image" .Values.images.engineBuilder "root" $) | quote }}
- name: MODELPLANE_STORAGE_INITIALIZER_IMAGE
  value: {{ include "modelplane.image" (dict "image" .Values.images.storageInitializer "root" $) | quote }}
- name: MODELPLANE_IMAGE_PULL_SECRETS
  value: {{ include "modelplane.pullSecretNames" . | quote }}
- name: MODELPLANE_TRITON_RUNTIME
  value: {{ .Values.runtimes.triton.name | quote }}
- name: MODELPLANE_PYTHON_RUNTIME
  value: {{ .Values.runtimes.python.name | quote }}
- name: MODELPLANE_PROMETHEUS_URL
  value: {{ .Values.operator.prometheusUrl | quote }}
- name: MODELPLANE_METRICS_PORT
  value: {{ .Values.operator.metricsPort | quote }}
- name: MODELPLANE_HEALTH_PORT
  value: {{ .Values.operator.healthPort | quote }}
# Labels and runbook links of the ServiceMonitors/PrometheusRules the operator renders per CR:
# the same as the chart's own, so one Prometheus selector finds all of them.
- name: MODELPLANE_MONITORING_LABELS
  value: {{ include "modelplane.monitoringLabelList" . | quote }}
- name: MODELPLANE_RUNBOOK_BASE_URL
  value: {{ .Values.monitoring.rules.runbookBaseUrl | quote }}
# Pull secrets of individual serving namespaces ("namespace:secret,...").
- name: MODELPLANE_NAMESPACE_PULL_SECRETS
  value: {{ include "modelplane.namespacePullSecretList" . | quote }}
# GPU sharing as gpu-operator exposes it, and the TensorRT version in engine cache keys.
- name: MODELPLANE_MIG_STRATEGY
  value: {{ .Values.gpu.migStrategy | quote }}
- name: MODELPLANE_GPU_TIME_SLICING
  value: {{ ternary "true" "false" .Values.gpu.timeSlicing | quote }}
- name: MODELPLANE_TENSORRT_VERSION
  value: {{ .Values.gpu.tensorrtVersion | quote }}
- name: MODELPLANE_GPU_PRODUCTS
  value: {{ join "," .Values.gpu.products | quote }}
# The replica's identity in the Lease, and the namespace the Lease lives in.
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- with .Values.operator.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
modelplane.monitoringLabelList: monitoring.additionalLabels as "key=value,key=value" (label
values cannot hold "," or "="), the format of MODELPLANE_MONITORING_LABELS.
*/}}
{{- define "modelplane.monitoringLabelList" -}}
{{- $pairs := list -}}
{{- range $key, $value := .Values.monitoring.additionalLabels -}}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end }}

{{/*
modelplane.namespacePullSecretList: operator.servingNamespacePullSecrets as
"namespace:secret,namespace:secret", the format of MODELPLANE_NAMESPACE_PULL_SECRETS.
*/}}
{{- define "modelplane.namespacePullSecretList" -}}
{{- $pairs := list -}}
{{- range $namespace, $secrets := .Values.operator.servingNamespacePullSecrets -}}
{{- range $secrets -}}
{{- $pairs = append $pairs (printf "%s:%s" $namespace .) -}}
{{- end -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end }}
