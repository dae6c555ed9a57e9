package libvirt

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const authHost = `<node>
  <auth>
    <user password='secret'>alice</user>
  </auth>
  <domain type='test'>
    <name>d1</name>
    <memory>1024</memory>
    <os><type>hvm</type></os>
  </domain>
</node>
`

func authURI(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "host.xml")
	if err := os.WriteFile(path, []byte(authHost), 0o644); err != nil {
		t.Fatal(err)
	}
	return "test://" + path
}

// answers gives user and password; it records the credential types asked.
func answers(user, password string, asked *[]ConnectCredentialType) *ConnectAuth {
	return &ConnectAuth{
		CredType: []ConnectCredentialType{CRED_AUTHNAME, CRED_PASSPHRASE},
		Callback: func(creds []*ConnectCredential) error {
			for _, c := range creds {
				*asked = append(*asked, c.Type)
				if c.Type == CRED_AUTHNAME {
					c.Result = user
				} else {
					c.Result = password
				}
			}
			return nil
		},
	}
}

func TestConnectOpenAuth(t *testing.T) {
	uri := authURI(t)
	var asked []ConnectCredentialType
	c, err := ConnectOpenAuth(uri, answers("alice", "secret", &asked), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !reflect.DeepEqual(asked, []ConnectCredentialType{CRED_AUTHNAME, CRED_PASSPHRASE}) {
		t.Fatalf("asked for %v", asked)
	}
	if d, err := c.DomainLookupByName("d1"); err != nil {
		t.Fatal(err)
	} else {
		d.Free()
	}

	_, err = ConnectOpenAuth(uri, answers("alice", "wrong", &asked), 0)
	if e, ok := err.(Error); !ok || e.Code != ERR_AUTH_FAILED {
		t.Fatalf("wrong password: %v", err)
	}
	refuse := &ConnectAuth{
		CredType: []ConnectCredentialType{CRED_AUTHNAME, CRED_PASSPHRASE},
		Callback: func([]*ConnectCredential) error { return errors.New("no") },
	}
	_, err = ConnectOpenAuth(uri, refuse, 0)
	if e, ok := err.(Error); !ok || e.Code != ERR_AUTH_FAILED || e.Domain != FROM_AUTH {
		t.Fatalf("refused: %v", err)
	}
	// no auth at all where the host asks for it
	if _, err := ConnectOpenAuth(uri, nil, 0); err == nil {
		t.Fatal("opened without credentials")
	}
}
