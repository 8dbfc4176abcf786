{{- define "genai.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "genai.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "genai.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: {{ include "genai.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "genai.selector" -}}
app.kubernetes.io/name: {{ include "genai.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "genai.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "genai.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "genai.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "genai.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else if .Values.secrets.create -}}
{{- include "genai.fullname" . }}-secrets
{{- else -}}
{{- fail "set secrets.existingSecret (a Secret with DATABASE_URL, GENAI_SECRET_KEY, GENAI_JWT_KEY) or secrets.create with secrets.values" -}}
{{- end -}}
{{- end -}}

{{- define "genai.chromaUrl" -}}
{{- if eq .Values.chroma.mode "external" -}}
{{- required "chroma.externalUrl is required when chroma.mode is external" .Values.chroma.externalUrl -}}
{{- else if eq .Values.chroma.mode "internal" -}}
http://{{ include "genai.fullname" . }}-chroma:{{ .Values.chroma.port }}
{{- else -}}
{{- fail "chroma.mode is internal or external" -}}
{{- end -}}
{{- end -}}

{{- define "genai.claimName" -}}
{{- .Values.persistence.existingClaim | default (printf "%s-data" (include "genai.fullname" .)) -}}
{{- end -}}

{{/* The environment every GenAI Stack process shares: settings by their real names. */}}
{{- define "genai.env" -}}
- name: CHROMA_URL
  value: {{ include "genai.chromaUrl" . | quote }}
- name: GENAI_DATA_DIR
  value: /data
{{- if and .Values.ingress.enabled (not (hasKey .Values.env "GENAI_ALLOWED_HOSTS")) }}
- name: GENAI_ALLOWED_HOSTS
  value: {{ list .Values.ingress.host | toJson | quote }}
{{- end }}
{{- if and .Values.ingress.enabled (not (hasKey .Values.env "GENAI_PUBLIC_URL")) }}
- name: GENAI_PUBLIC_URL
  value: {{ printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tls.secretName))) .Values.ingress.host | quote }}
{{- end }}
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "genai.pod" -}}
serviceAccountName: {{ include "genai.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountServiceAccountToken }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* nginx for the SPA's files only: the Ingress sends the API's paths to the API Service. */}}
{{- define "genai.webConfig" -}}
server {
  listen 8080;
  root /usr/share/nginx/html;
  location = /embed.js {
    add_header Cache-Control "public, max-age=300, must-revalidate";
    add_header Cross-Origin-Resource-Policy cross-origin;
  }
  location /assets/ { expires 1y; add_header Cache-Control "public, immutable"; }
  location / { try_files $uri /index.html; }
}
{{- end -}}
