package testpg

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartStop(t *testing.T) {
	ctx := context.Background()
	s := Start(t)
	conn, err := pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	var v string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil || v[:2] != "15" {
		t.Fatalf("server_version = %q, %v", v, err)
	}
	conn.Close(ctx)
	if _, err := pgx.Connect(ctx, s.URL(SuperUser, "wrong")); err == nil {
		t.Fatal("wrong password accepted")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, s.SuperURL()); err == nil {
		t.Fatal("connected to a stopped server")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	conn.Close(ctx)
}
