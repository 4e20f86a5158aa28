package auth

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/medguard/medguard/internal/problem"
)

func TestValidatePasswordFixture(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/password_policy.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line, cases := 0, 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		verdict, pw, ok := strings.Cut(text, " ")
		if !ok || (verdict != "ok" && verdict != "weak") {
			t.Fatalf("line %d: want \"ok|weak <password>\", got %q", line, text)
		}
		cases++
		err := ValidatePassword(pw, "drwang")
		switch {
		case verdict == "ok" && err != nil:
			t.Errorf("line %d: ValidatePassword(%q) = %v, want ok", line, pw, err)
		case verdict == "weak" && err == nil:
			t.Errorf("line %d: ValidatePassword(%q) accepted a weak password", line, pw)
		case verdict == "weak":
			pe, ok := problem.As(err)
			if !ok || pe.Kind != problem.KindInvalid || pe.Code != "weak_password" || pe.Field != "password" {
				t.Errorf("line %d: error %v is not an invalid/weak_password problem on field password", line, err)
			}
			if pw != "" && strings.Contains(pe.Message, pw) {
				t.Errorf("line %d: error message echoes the password", line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cases < 20 {
		t.Fatalf("only %d cases read", cases)
	}
}

func TestCommonPasswordList(t *testing.T) {
	t.Parallel()
	if len(commonPasswords) < 300 {
		t.Fatalf("common password list has %d entries, want several hundred", len(commonPasswords))
	}
	for _, pw := range []string{"password1234", "123456789012", "qwertyuiop12", "p@ssw0rd1234", "woaini1314", "1qaz2wsx3edc"} {
		if _, ok := commonPasswords[pw]; !ok {
			t.Errorf("%q missing from the common password list", pw)
		}
	}
}

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id PHC with the OWASP parameters", h)
	}
	if strings.Contains(h, testPassword) {
		t.Fatal("hash contains the password")
	}
	h2, err := HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name string
		pw   string
		want bool
	}{
		{"right", testPassword, true},
		{"wrong case", strings.ToLower(testPassword), false},
		{"prefix", testPassword[:len(testPassword)-1], false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := CheckPassword(h, tt.pw)
			if err != nil || ok != tt.want {
				t.Fatalf("CheckPassword = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	t.Parallel()
	good, err := HashPassword("x")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	tests := []struct {
		name    string
		encoded string
	}{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuu5Xg8yBqBiQyVsVxQ6cJZvCT9SNLj1o6"},
		{"argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + parts[4] + "$" + parts[5]},
		{"old version", "$argon2id$v=16$m=19456,t=2,p=1$" + parts[4] + "$" + parts[5]},
		{"huge memory", "$argon2id$v=19$m=4294967295,t=2,p=1$" + parts[4] + "$" + parts[5]},
		{"huge time", "$argon2id$v=19$m=19456,t=1000000,p=1$" + parts[4] + "$" + parts[5]},
		{"zero lanes", "$argon2id$v=19$m=19456,t=2,p=0$" + parts[4] + "$" + parts[5]},
		{"missing param", "$argon2id$v=19$m=19456,t=2$" + parts[4] + "$" + parts[5]},
		{"duplicate param", "$argon2id$v=19$m=19456,m=8,t=2,p=1$" + parts[4] + "$" + parts[5]},
		{"bad salt", "$argon2id$v=19$m=19456,t=2,p=1$!!!$" + parts[5]},
		{"short hash", "$argon2id$v=19$m=19456,t=2,p=1$" + parts[4] + "$AAAA"},
		{"extra field", good + "$x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := CheckPassword(tt.encoded, "x")
			if err == nil || ok {
				t.Fatalf("CheckPassword(%q) = %v, %v; want an error and no match", tt.encoded, ok, err)
			}
		})
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		if h.memory < 8 || h.memory > 1<<20 || h.time < 1 || h.time > 16 || h.threads < 1 || h.threads > 16 {
			t.Fatalf("accepted out-of-range parameters %+v from %q", h, s)
		}
		if len(h.salt) < 8 || len(h.key) < 16 {
			t.Fatalf("accepted short salt or key from %q", s)
		}
	})
}

func FuzzValidatePassword(f *testing.F) {
	f.Add("Correct-Horse-9-Battery", "drwang")
	f.Add("", "")
	f.Add("密码密码密码密码Aa1", "a")
	f.Fuzz(func(t *testing.T, pw, user string) {
		err := ValidatePassword(pw, user)
		if err == nil {
			n := utf8.RuneCountInString(pw)
			if n < MinPasswordLen || n > MaxPasswordLen || !utf8.ValidString(pw) {
				t.Fatalf("accepted %q of %d runes", pw, n)
			}
			if u := strings.ToLower(strings.TrimSpace(user)); u != "" && strings.Contains(strings.ToLower(pw), u) {
				t.Fatalf("accepted %q containing username %q", pw, user)
			}
			return
		}
		if pe, ok := problem.As(err); !ok || pe.Code != "weak_password" {
			t.Fatalf("error %v is not a weak_password problem", err)
		}
	})
}

// TestCheapHashesInTests: after UseCheapHashesInTests new hashes carry 64 KiB and one pass
// and still verify (and a wrong password still fails); hashes made before keep theirs.
// Not parallel: it changes the parameters of the package and puts them back.
func TestCheapHashesInTests(t *testing.T) {
	before, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	m, tm := hashMemory, hashTime
	t.Cleanup(func() { hashMemory, hashTime = m, tm })
	UseCheapHashesInTests()
	cheap, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cheap, "$m=64,t=1,p=1$") || !strings.Contains(before, "$m=19456,t=2,p=1$") {
		t.Fatalf("hashes %q (cheap) and %q (before)", cheap, before)
	}
	for _, h := range []string{before, cheap} {
		if ok, err := CheckPassword(h, "correct horse battery staple"); err != nil || !ok {
			t.Errorf("check %q: %v %v", h, ok, err)
		}
		if ok, _ := CheckPassword(h, "wrong horse battery staple"); ok {
			t.Errorf("a wrong password matches %q", h)
		}
	}
}
