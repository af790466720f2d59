package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// Where the app container finds its tokens, and the keys of the Secret.
const (
	secretKeyDaprd = "token"  // the key daprd's dapr.io/app-token-secret reads
	secretKeyApp   = "tokens" // the app's accepted tokens, one per line
	tokenVolume    = "apptoken"
	tokenMountPath = "/var/run/secrets/apptoken"
	annotationKey  = "dapr.io/app-token-secret"
	// tokenFileMode lets the owner and the pod's fsGroup read the file:
	// 0400 would leave it to root alone.
	tokenFileMode int32 = 0o440
)

// k8sConfig is what the k8s command writes objects for.
type k8sConfig struct {
	app, deployment, container, secret string
	namespaces                         []string
	env                                bool
	fsGroup                            int64
}

func runK8s(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "k8s", "-app APP_ID [-namespace NS...] [-token-file FILE] [-env] [-rotate -old-token-file FILE -token-file FILE [-step N]]", `
Prints, as YAML on stdout, the Kubernetes objects that give an app and its
Dapr sidecar the same app API token:

  - in each -namespace, the Secret named by the pod annotation
    dapr.io/app-token-secret: daprd takes APP_API_TOKEN from its key "token";
    its key "tokens" is the list the app accepts (one token per line), so that
    a rotation can add a token for the app before daprd sends it;
  - a strategic-merge patch for the app's Deployment: the annotation, and the
    app container's token as a file of the Secret mounted read-only, named by
    APP_API_TOKEN_FILE (reloaded by apptoken when kubelet refreshes it; mode
    0440 and the pod's fsGroup, so that a non-root container can read it), or
    with -env as the variable APP_API_TOKEN (read at start only).

The Secret holds a new random token unless -token-file names one: write the
output to a file only you can read, or pipe it to kubectl.

  apptoken k8s -app orders -namespace shop > orders-token.yaml

With -rotate it prints the three steps of a rotation without downtime as
separate documents, with the commands to run between them: (1) the app
accepts the old and the new token; (2) daprd's key holds the new token and
the pods are restarted, since daprd reads it only at start; (3) the old
token is removed. Apply each step alone, in order; -step N prints step N's
objects only, for kubectl apply -f -.`)
	var c k8sConfig
	fs.StringVar(&c.app, "app", "", "the Dapr app id (dapr.io/app-id) (required)")
	fs.StringVar(&c.deployment, "deployment", "", "the Deployment's `NAME` (default: the app id)")
	fs.StringVar(&c.container, "container", "", "the app container's `NAME` (default: the app id)")
	fs.StringVar(&c.secret, "secret", "", "the Secret's `NAME` (default: APP_ID-app-token)")
	var ns stringList
	fs.Var(&ns, "namespace", "write the Secret into namespace `NS` (repeat for several; default: none, kubectl's current)")
	tokenFile := fs.String("token-file", "", "the token to put in the Secret, read from `FILE` (default: a new random one)")
	fs.BoolVar(&c.env, "env", false, "give the app container APP_API_TOKEN as an environment variable instead of a mounted file")
	fs.Int64Var(&c.fsGroup, "fsgroup", 2000, "the pod's fsGroup: the group that may read the mounted token file")
	rotate := fs.Bool("rotate", false, "print the three steps of a rotation from -old-token-file to -token-file")
	oldFile := fs.String("old-token-file", "", "with -rotate, the token in use now, read from `FILE`")
	step := fs.Int("step", 0, "with -rotate, print only step `N` (1, 2 or 3)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("k8s", "unexpected argument %q", fs.Arg(0))
	}
	if err := c.complete(ns); err != nil {
		return err
	}
	switch {
	case !*rotate && (*oldFile != "" || *step != 0):
		return usageError("k8s", "-old-token-file and -step go with -rotate")
	case *rotate && c.env:
		return usageError("k8s", "-rotate needs the mounted file: with -env the app reads its token once, at start, and cannot accept two")
	case *rotate && (*oldFile == "" || *tokenFile == ""):
		return usageError("k8s", "-rotate needs -old-token-file (the token in use) and -token-file (the new one, from apptoken new -o)")
	case *step < 0 || *step > 3:
		return usageError("k8s", "-step %d: want 1, 2 or 3", *step)
	}
	tok := ""
	if *tokenFile != "" {
		var err error
		if tok, err = readToken(*tokenFile); err != nil {
			return err
		}
	} else {
		tok = newToken()
	}
	if !*rotate {
		return writeDocs(e.stdout, c.setup(tok))
	}
	old, err := readToken(*oldFile)
	if err != nil {
		return err
	}
	if old == tok {
		return fmt.Errorf("%s and %s hold the same token: nothing to rotate", *oldFile, *tokenFile)
	}
	return writeDocs(e.stdout, c.rotation(old, tok, *oldFile, *tokenFile, *step))
}

// complete checks the names and fills in the defaults.
func (c *k8sConfig) complete(ns []string) error {
	if c.app == "" {
		return usageError("k8s", "-app APP_ID is required")
	}
	if c.deployment == "" {
		c.deployment = c.app
	}
	if c.container == "" {
		c.container = c.app
	}
	if c.secret == "" {
		c.secret = c.app + "-app-token"
	}
	for _, n := range []struct{ flag, v string }{{"-app", c.app}, {"-deployment", c.deployment}, {"-secret", c.secret}} {
		if errs := validation.IsDNS1123Subdomain(n.v); len(errs) > 0 {
			return usageError("k8s", "%s %q: %s", n.flag, n.v, strings.Join(errs, "; "))
		}
	}
	if errs := validation.IsDNS1123Label(c.container); len(errs) > 0 {
		return usageError("k8s", "-container %q: %s", c.container, strings.Join(errs, "; "))
	}
	seen := map[string]bool{}
	for _, n := range ns {
		if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
			return usageError("k8s", "-namespace %q: %s", n, strings.Join(errs, "; "))
		}
		if !seen[n] {
			seen[n] = true
			c.namespaces = append(c.namespaces, n)
		}
	}
	if len(c.namespaces) == 0 {
		c.namespaces = []string{""}
	}
	if c.fsGroup < 0 {
		return usageError("k8s", "-fsgroup %d: want a group id, 0 or more", c.fsGroup)
	}
	return nil
}

// readToken reads one token from a file, as apptoken would accept it.
func readToken(name string) (string, error) {
	data, err := readLimited(name)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(data))
	if strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("%s: more than one line; want one token", name)
	}
	if err := checkToken(tok); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return tok, nil
}

// doc is one YAML document: comment lines, then an object (nil for a
// document of comments only).
type doc struct {
	comment string
	obj     any
}

// setup is the Secrets, one per namespace, and the Deployment patch.
func (c k8sConfig) setup(tok string) []doc {
	var docs []doc
	for _, ns := range c.namespaces {
		docs = append(docs, doc{
			comment: fmt.Sprintf("The Secret daprd reads (key %q, through the annotation %s) and the app mounts (key %q).\n"+
				"Apply: kubectl apply%s -f FILE", secretKeyDaprd, annotationKey, secretKeyApp, nsFlag(ns)),
			obj: c.secretObject(ns, tok, tok),
		})
	}
	how := fmt.Sprintf("mounts key %q as %s/%s (mode 0440, which YAML shows as 288; group %d), named by %s", secretKeyApp, tokenMountPath, secretKeyApp, c.fsGroup, fileEnvVar)
	if c.env {
		how = fmt.Sprintf("sets %s from key %q (read at start only)", envVar, secretKeyDaprd)
	}
	var apply []string
	for _, ns := range c.namespaces {
		apply = append(apply, fmt.Sprintf("kubectl patch deployment %s%s --type strategic --patch-file FILE", c.deployment, nsFlag(ns)))
	}
	docs = append(docs, doc{
		comment: fmt.Sprintf("A strategic-merge patch for Deployment %s: the annotation for daprd; container %s %s.\n"+
			"Apply (pods restart): %s", c.deployment, c.container, how, strings.Join(apply, "\n  ")),
		obj: c.deploymentPatch(),
	})
	return docs
}

func nsFlag(ns string) string {
	if ns == "" {
		return ""
	}
	return " -n " + ns
}

// rotation is the three steps from old to tok, each as Secrets (one per
// namespace) with the commands to run before the next; only step when it
// is not 0.
func (c k8sConfig) rotation(old, tok, oldFile, newFile string, step int) []doc {
	steps := []struct {
		daprd, app string
		title      string
		after      func(ns string) string
	}{
		{old, old + "\n" + tok, "the app accepts the old and the new token; daprd keeps sending the old one",
			func(ns string) string {
				return fmt.Sprintf("Then wait until every pod's app has reloaded (kubelet refreshes the mounted Secret within about a minute):\n"+
					"  kubectl logs deployment/%s -c %s%s --since=10m | grep 'accepted tokens reloaded tokens=2'\n"+
					"(check every pod, for example with -l and --prefix)", c.deployment, c.container, nsFlag(ns))
			}},
		{tok, old + "\n" + tok, "daprd's key holds the new token; restart the pods, since daprd reads it only at start",
			func(ns string) string {
				return fmt.Sprintf("Then restart, and wait for the rollout to finish:\n"+
					"  kubectl rollout restart deployment/%s%s\n  kubectl rollout status deployment/%s%s",
					c.deployment, nsFlag(ns), c.deployment, nsFlag(ns))
			}},
		{tok, tok, "the old token is removed (only once step 2's rollout has finished)",
			func(string) string {
				return "The app rejects the old token within about a minute, without a restart. Rotation done."
			}},
	}
	var docs []doc
	if step == 0 {
		docs = append(docs, doc{comment: "A rotation without downtime in three steps, for a Deployment patched as `apptoken k8s`\n" +
			"without -rotate prints it (the app reads key \"tokens\" from the mounted Secret).\n" +
			"Apply each step ALONE, in order, and do what its comment says before the next:\n" +
			"applying this whole stream at once rejects daprd's calls until the pods restart."})
	}
	for i, s := range steps {
		if step != 0 && step != i+1 {
			continue
		}
		for _, ns := range c.namespaces {
			docs = append(docs, doc{
				comment: fmt.Sprintf("Step %d of 3: %s.\nApply:\n  %s | kubectl apply%s -f -\n%s",
					i+1, s.title, c.stepCommand(ns, oldFile, newFile, i+1), nsFlag(ns), s.after(ns)),
				obj: c.secretObject(ns, s.daprd, s.app),
			})
		}
	}
	return docs
}

// stepCommand is the command line that prints step n's Secret for ns.
// It names the token files, never a token.
func (c k8sConfig) stepCommand(ns, oldFile, newFile string, n int) string {
	args := []string{"apptoken", "k8s", "-app", c.app}
	if c.deployment != c.app {
		args = append(args, "-deployment", c.deployment)
	}
	if c.container != c.app {
		args = append(args, "-container", c.container)
	}
	if c.secret != c.app+"-app-token" {
		args = append(args, "-secret", c.secret)
	}
	if ns != "" {
		args = append(args, "-namespace", ns)
	}
	args = append(args, "-rotate", "-old-token-file", shellQuote(oldFile), "-token-file", shellQuote(newFile), "-step", strconv.Itoa(n))
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (c k8sConfig) secretObject(ns, daprdToken, appTokens string) *corev1.Secret {
	data := map[string]string{secretKeyDaprd: daprdToken}
	if !c.env {
		data[secretKeyApp] = appTokens
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      c.secret,
			Namespace: ns,
			Labels:    map[string]string{"app.kubernetes.io/managed-by": "apptoken", "dapr.io/app-id": c.app},
		},
		Type:       corev1.SecretTypeOpaque,
		StringData: data,
	}
}

func (c k8sConfig) deploymentPatch() *appsv1.Deployment {
	container := corev1.Container{Name: c.container}
	var pod corev1.PodSpec
	if c.env {
		container.Env = []corev1.EnvVar{{
			Name: envVar,
			ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: c.secret},
				Key:                  secretKeyDaprd,
			}},
		}}
	} else {
		mode := tokenFileMode
		group := c.fsGroup
		container.Env = []corev1.EnvVar{{Name: fileEnvVar, Value: tokenMountPath + "/" + secretKeyApp}}
		container.VolumeMounts = []corev1.VolumeMount{{Name: tokenVolume, MountPath: tokenMountPath, ReadOnly: true}}
		pod.SecurityContext = &corev1.PodSecurityContext{FSGroup: &group}
		pod.Volumes = []corev1.Volume{{
			Name: tokenVolume,
			VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName:  c.secret,
				Items:       []corev1.KeyToPath{{Key: secretKeyApp, Path: secretKeyApp}},
				DefaultMode: &mode,
			}},
		}}
	}
	pod.Containers = []corev1.Container{container}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: c.deployment},
		Spec: appsv1.DeploymentSpec{
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{annotationKey: c.secret}},
				Spec:       pod,
			},
		},
	}
}

// writeDocs writes docs as a YAML stream: "---" between documents, each
// document's comment as "#" lines before its object.
func writeDocs(w io.Writer, docs []doc) error {
	var buf bytes.Buffer
	for i, d := range docs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		for line := range strings.Lines(d.comment) {
			buf.WriteString("# " + strings.TrimRight(line, "\n") + "\n")
		}
		if d.obj == nil {
			continue
		}
		y, err := renderObject(d.obj)
		if err != nil {
			return err
		}
		buf.Write(y)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// renderObject is obj as YAML, with the empty values that the API types'
// JSON encoding writes (creationTimestamp: null, status: {}, strategy: {},
// resources: {}) left out: they mean nothing in a manifest or a patch, and
// a patch should say only what it changes.
func renderObject(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, err
	}
	prune(m)
	return yaml.Marshal(m)
}

// prune removes nulls and empty objects from m, deepest first.
func prune(m map[string]any) {
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			prune(v)
			if len(v) == 0 {
				delete(m, k)
			}
		case []any:
			for _, e := range v {
				if em, ok := e.(map[string]any); ok {
					prune(em)
				}
			}
		}
	}
}
