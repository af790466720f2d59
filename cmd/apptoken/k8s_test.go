package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// k8sDoc is one document of the k8s command's output: its comment lines
// and its YAML.
type k8sDoc struct {
	comment, yaml string
}

// splitDocs splits a YAML stream at its "---" lines.
func splitDocs(t *testing.T, out string) []k8sDoc {
	t.Helper()
	var docs []k8sDoc
	for part := range strings.SplitSeq(out, "---\n") {
		var d k8sDoc
		for line := range strings.Lines(part) {
			if strings.HasPrefix(line, "#") {
				if d.yaml != "" {
					t.Fatalf("a comment line after the object:\n%s", part)
				}
				d.comment += line
			} else {
				d.yaml += line
			}
		}
		docs = append(docs, d)
	}
	return docs
}

// decodeStrict decodes d's YAML strictly (no unknown or duplicate field)
// into obj, checks that it is the kind expected, and that encoding it
// again gives the same YAML: nothing was lost or made up on the way.
func decodeStrict[T any](t *testing.T, d k8sDoc, obj *T) *T {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(d.yaml), obj); err != nil {
		t.Fatalf("not a strict %T: %v\n%s", obj, err, d.yaml)
	}
	again, err := renderObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != d.yaml {
		t.Errorf("%T does not round-trip:\n--- printed\n%s--- decoded and encoded again\n%s", obj, d.yaml, again)
	}
	return obj
}

func secretDoc(t *testing.T, d k8sDoc) *corev1.Secret {
	t.Helper()
	s := decodeStrict(t, d, &corev1.Secret{})
	if s.APIVersion != "v1" || s.Kind != "Secret" || s.Type != corev1.SecretTypeOpaque {
		t.Errorf("Secret: apiVersion %q kind %q type %q", s.APIVersion, s.Kind, s.Type)
	}
	return s
}

func TestK8sFile(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "", "new", "-o", "app.token")
	tok, _ := os.ReadFile(filepath.Join(dir, "app.token"))
	out := must(t, dir, "", "k8s", "-app", "orders", "-namespace", "shop", "-namespace", "billing", "-token-file", "app.token").stdout
	docs := splitDocs(t, out)
	if len(docs) != 3 {
		t.Fatalf("%d documents, want a Secret per namespace and the patch:\n%s", len(docs), out)
	}
	for i, ns := range []string{"shop", "billing"} {
		s := secretDoc(t, docs[i])
		if s.Name != "orders-app-token" || s.Namespace != ns {
			t.Errorf("Secret %s/%s, want %s/orders-app-token", s.Namespace, s.Name, ns)
		}
		if s.StringData["token"] != string(tok) || s.StringData["tokens"] != string(tok) || len(s.StringData) != 2 {
			t.Errorf("Secret data has keys %v; want token and tokens, both the token of -token-file", keys(s.StringData))
		}
		if !strings.Contains(docs[i].comment, "kubectl apply -n "+ns) {
			t.Errorf("the Secret's comment does not say how to apply it:\n%s", docs[i].comment)
		}
	}

	d := decodeStrict(t, docs[2], &appsv1.Deployment{})
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Name != "orders" {
		t.Errorf("patch: %s %s %s", d.APIVersion, d.Kind, d.Name)
	}
	pod := d.Spec.Template
	if got := pod.Annotations["dapr.io/app-token-secret"]; got != "orders-app-token" {
		t.Errorf("annotation dapr.io/app-token-secret = %q", got)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.FSGroup == nil || *sc.FSGroup != 2000 {
		t.Errorf("pod securityContext %+v: want fsGroup 2000", sc)
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Secret == nil {
		t.Fatalf("volumes %+v: want the Secret", pod.Spec.Volumes)
	}
	vol := pod.Spec.Volumes[0].Secret
	if vol.SecretName != "orders-app-token" || vol.DefaultMode == nil || *vol.DefaultMode != 0o440 ||
		len(vol.Items) != 1 || vol.Items[0].Key != "tokens" || vol.Items[0].Path != "tokens" {
		t.Errorf("secret volume %+v: want key tokens as file tokens, mode 0440", vol)
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("containers %+v", pod.Spec.Containers)
	}
	c := pod.Spec.Containers[0]
	if c.Name != "orders" || len(c.Env) != 1 || c.Env[0].Name != "APP_API_TOKEN_FILE" ||
		c.Env[0].Value != "/var/run/secrets/apptoken/tokens" {
		t.Errorf("container %s env %+v: want APP_API_TOKEN_FILE=/var/run/secrets/apptoken/tokens", c.Name, c.Env)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/var/run/secrets/apptoken" || !c.VolumeMounts[0].ReadOnly ||
		c.VolumeMounts[0].SubPath != "" || c.VolumeMounts[0].Name != pod.Spec.Volumes[0].Name {
		t.Errorf("volumeMounts %+v: want the volume read-only at /var/run/secrets/apptoken, no subPath", c.VolumeMounts)
	}
	for _, ns := range []string{"shop", "billing"} {
		if !strings.Contains(docs[2].comment, "kubectl patch deployment orders -n "+ns+" --type strategic") {
			t.Errorf("the patch's comment does not say how to apply it in %s:\n%s", ns, docs[2].comment)
		}
	}
}

func TestK8sEnvAndNames(t *testing.T) {
	out := must(t, "", "", "k8s", "-app", "orders", "-env", "-deployment", "orders-v2", "-container", "app", "-secret", "orders-dapr").stdout
	docs := splitDocs(t, out)
	if len(docs) != 2 {
		t.Fatalf("%d documents, want 2", len(docs))
	}
	s := secretDoc(t, docs[0])
	tok := s.StringData["token"]
	if s.Namespace != "" || s.Name != "orders-dapr" || !base64url43.MatchString(tok) || len(s.StringData) != 1 {
		t.Errorf("Secret %s/%s with keys %v: want orders-dapr, no namespace, key token only, a new token", s.Namespace, s.Name, keys(s.StringData))
	}
	d := decodeStrict(t, docs[1], &appsv1.Deployment{})
	pod := d.Spec.Template.Spec
	if d.Name != "orders-v2" || len(pod.Volumes) != 0 || pod.SecurityContext != nil {
		t.Errorf("patch %s: volumes %v securityContext %v; want orders-v2, neither", d.Name, pod.Volumes, pod.SecurityContext)
	}
	c := pod.Containers[0]
	if c.Name != "app" || len(c.Env) != 1 || c.Env[0].Name != "APP_API_TOKEN" || c.Env[0].ValueFrom == nil ||
		c.Env[0].ValueFrom.SecretKeyRef == nil || c.Env[0].ValueFrom.SecretKeyRef.Name != "orders-dapr" ||
		c.Env[0].ValueFrom.SecretKeyRef.Key != "token" || len(c.VolumeMounts) != 0 {
		t.Errorf("container %+v: want APP_API_TOKEN from secret orders-dapr key token", c)
	}
	// A new random token each run.
	again := secretDoc(t, splitDocs(t, must(t, "", "", "k8s", "-app", "orders", "-env").stdout)[0])
	if again.StringData["token"] == tok {
		t.Error("two runs wrote the same token")
	}
}

func TestK8sRotate(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "", "new", "-o", "old.token")
	must(t, dir, "", "new", "-o", "new.token")
	oldTok, _ := os.ReadFile(filepath.Join(dir, "old.token"))
	newTok, _ := os.ReadFile(filepath.Join(dir, "new.token"))
	old, next := string(oldTok), string(newTok)
	args := []string{"k8s", "-app", "orders", "-namespace", "shop", "-rotate", "-old-token-file", "old.token", "-token-file", "new.token"}
	docs := splitDocs(t, must(t, dir, "", args...).stdout)
	if len(docs) != 4 || docs[0].yaml != "" {
		t.Fatalf("%d documents, want a comment and three steps", len(docs))
	}
	want := []struct{ daprd, app, command string }{
		{old, old + "\n" + next, "grep 'accepted tokens reloaded tokens=2'"},
		{next, old + "\n" + next, "kubectl rollout restart deployment/orders -n shop"},
		{next, next, ""},
	}
	for i, w := range want {
		d := docs[i+1]
		s := secretDoc(t, d)
		if s.Name != "orders-app-token" || s.Namespace != "shop" || s.StringData["token"] != w.daprd || s.StringData["tokens"] != w.app {
			t.Errorf("step %d: Secret %s/%s does not hold what the step needs", i+1, s.Namespace, s.Name)
		}
		step := []string{"Step " + string(rune('1'+i)) + " of 3", w.command, "-step " + string(rune('1'+i)) + " | kubectl apply -n shop -f -"}
		for _, s := range step {
			if !strings.Contains(d.comment, s) {
				t.Errorf("step %d's comment does not say %q:\n%s", i+1, s, d.comment)
			}
		}
		if strings.Contains(d.comment, old) || strings.Contains(d.comment, next) {
			t.Errorf("step %d's comment holds a token", i+1)
		}
		// -step N prints that step's Secret alone, for kubectl apply -f -.
		only := splitDocs(t, must(t, dir, "", append(args, "-step", string(rune('1'+i)))...).stdout)
		if len(only) != 1 || only[0].yaml != d.yaml {
			t.Errorf("-step %d does not print step %d's Secret alone", i+1, i+1)
		}
	}
}

func TestK8sRefuses(t *testing.T) {
	dir := t.TempDir()
	must(t, dir, "", "new", "-o", "a.token")
	if err := os.WriteFile(filepath.Join(dir, "two.token"), []byte("abcdefgh\nijklmnop\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "-app APP_ID is required"},
		{[]string{"-app", "Orders_1"}, 2, "-app \"Orders_1\""},
		{[]string{"-app", "orders", "-namespace", "a.b"}, 2, "-namespace \"a.b\""},
		{[]string{"-app", "orders", "-rotate", "-old-token-file", "a.token"}, 2, "-rotate needs"},
		{[]string{"-app", "orders", "-rotate", "-env", "-old-token-file", "a.token", "-token-file", "a.token"}, 2, "-rotate needs the mounted file"},
		{[]string{"-app", "orders", "-rotate", "-old-token-file", "a.token", "-token-file", "a.token"}, 1, "the same token"},
		{[]string{"-app", "orders", "-step", "1"}, 2, "go with -rotate"},
		{[]string{"-app", "orders", "-token-file", "missing.token"}, 1, "missing.token"},
		{[]string{"-app", "orders", "-token-file", "two.token"}, 1, "more than one line"},
	} {
		r := apptokenCmd(t, dir, "", append([]string{"k8s"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("k8s %q: exit %d, %q; want %d, %q, no output", c.args, r.code, r.stderr, c.code, c.want)
		}
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
