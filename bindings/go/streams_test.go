package libvirt

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// screenshot opens a stream of the test driver's screenshot (a PNG).
func screenshot(t *testing.T, c *Connect) *Stream {
	t.Helper()
	st, err := c.StreamNew(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Free() })
	d, err := c.DomainLookupByName("test")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free()
	if mime, err := d.Screenshot(st, 0, 0); err != nil || mime != "image/png" {
		t.Fatalf("Screenshot: %q %v", mime, err)
	}
	return st
}

func TestStreamRecvAll(t *testing.T) {
	c := open(t)
	st := screenshot(t, c)
	var got bytes.Buffer
	err := st.RecvAll(func(s *Stream, data []byte) error {
		if s.ptr != st.ptr {
			return errors.New("another stream")
		}
		got.Write(data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Finish(); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got.Bytes(), []byte("\x89PNG\r\n")) {
		t.Fatalf("not a PNG: %q", got.Bytes()[:8])
	}
	fmt.Printf("OUT recvall %d bytes\n", got.Len())
}

func TestStreamRecvAllHandlerFails(t *testing.T) {
	c := open(t)
	st := screenshot(t, c)
	calls := 0
	err := st.RecvAll(func(*Stream, []byte) error { calls++; return errors.New("full") })
	if err == nil || calls != 1 {
		t.Fatalf("a failing sink: %v after %d calls", err, calls)
	}
}

// The test driver's streams have no holes: asking to stop at one is not supported.
func TestStreamSparseRecvAll(t *testing.T) {
	c := open(t)
	st := screenshot(t, c)
	holes := 0
	err := st.SparseRecvAll(func(*Stream, []byte) error { return nil },
		func(*Stream, int64) error { holes++; return nil })
	if e, ok := err.(Error); !ok || e.Code != ERR_NO_SUPPORT {
		t.Fatalf("SparseRecvAll: %v", err)
	}
	st.Abort()
}

// A screenshot stream is read only: what a source gives cannot be sent (a
// system error from the stream, on both libraries).
func TestStreamSendAll(t *testing.T) {
	c := open(t)
	st := screenshot(t, c)
	asked := 0
	err := st.SendAll(func(s *Stream, nbytes int) ([]byte, error) {
		asked++
		if nbytes <= 0 {
			return nil, errors.New("no room")
		}
		return []byte("data"), nil
	})
	e, ok := err.(Error)
	if !ok || asked == 0 || e.Code != ERR_SYSTEM_ERROR || e.Domain != FROM_STREAMS {
		t.Fatalf("SendAll: %v after %d calls", err, asked)
	}
	fmt.Printf("OUT sendall code=%d domain=%d\n", e.Code, e.Domain)
	st2 := screenshot(t, c)
	inData, skipped := 0, int64(0)
	err = st2.SparseSendAll(func(*Stream, int) ([]byte, error) { return []byte("data"), nil },
		func(*Stream) (int, int64, error) { inData++; return 1, 4, nil },
		func(_ *Stream, n int64) error { skipped += n; return nil })
	e, ok = err.(Error)
	if !ok || inData == 0 || e.Code != ERR_SYSTEM_ERROR || e.Domain != FROM_STREAMS {
		t.Fatalf("SparseSendAll: %v after %d calls", err, inData)
	}
	fmt.Printf("OUT sparsesendall code=%d domain=%d\n", e.Code, e.Domain)
}
