package audit

import (
	"fmt"
	"net"
	"time"
)

// socketDest sends lines to a TCP, UDP or unix socket. Dialling and every
// write are bounded by the write timeout, so a slow or dead receiver costs
// a request at most that long; after a failure the sink fails fast for one
// timeout before it dials again.
type socketDest struct {
	network, address string
	timeout          time.Duration
	conn             net.Conn
}

// open dials; every new connection starts with a header line.
func (d *socketDest) open() ([]byte, bool, error) {
	c, err := net.DialTimeout(d.network, d.address, d.timeout)
	if err != nil {
		return nil, false, fmt.Errorf("dial %s: %w", d.address, err)
	}
	d.conn = c
	return nil, true, nil
}

func (d *socketDest) write(p []byte) error {
	if err := d.conn.SetWriteDeadline(time.Now().Add(d.timeout)); err != nil {
		return err
	}
	if _, err := d.conn.Write(p); err != nil {
		return fmt.Errorf("write to %s: %w", d.address, err)
	}
	return nil
}

func (d *socketDest) close() error {
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn = nil
	return err
}
