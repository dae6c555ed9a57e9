(* The stream handlers (send_all, recv_all and their sparse forms) on the test
   driver's screenshot stream: read only, and without holes. *)
open Pyvirt
open Harness

let conn = connect_open ~name:"test:///default" ()
let dom = Connect.domain_lookup_by_name conn "test"

let screenshot () =
  let st = Connect.stream_new conn in
  check_eq "mime" Fun.id "image/png" (Domain.screenshot dom st 0);
  st

let error f =
  match f () with
  | _ -> raise (Check_failed "no error raised")
  | exception Error e -> e

let () =
  test "recv_all gives the PNG" (fun () ->
      let st = screenshot () in
      let buf = Buffer.create 4096 in
      Stream.recv_all st (fun _ data -> Buffer.add_string buf data);
      Stream.finish st;
      check "a PNG" (String.sub (Buffer.contents buf) 0 6 = "\137PNG\r\n");
      check "all of it" (Buffer.length buf > 1000));
  test "a sink that raises stops recv_all" (fun () ->
      let st = screenshot () in
      let calls = ref 0 in
      ignore (error (fun () -> Stream.recv_all st (fun _ _ -> incr calls; failwith "full")));
      check_eq "calls" string_of_int 1 !calls);
  test "sparse_recv_all: no holes in this stream" (fun () ->
      let st = screenshot () in
      let e = error (fun () -> Stream.sparse_recv_all st (fun _ _ -> ()) (fun _ _ -> ())) in
      check_eq "code" string_of_int err_no_support e.code;
      (try Stream.abort st with Error _ -> ()));
  test "send_all on a read-only stream" (fun () ->
      let st = screenshot () in
      let asked = ref 0 in
      let e = error (fun () -> Stream.send_all st (fun _ _ -> incr asked; "data")) in
      check_eq "code" string_of_int err_system_error e.code;
      check_eq "domain" string_of_int from_streams e.domain;
      check "the source was asked" (!asked > 0));
  test "sparse_send_all on a read-only stream" (fun () ->
      let st = screenshot () in
      let in_data = ref 0 in
      let e = error (fun () ->
          Stream.sparse_send_all st (fun _ _ -> "data")
            (fun _ -> incr in_data; (1, 4)) (fun _ _ -> ())) in
      check_eq "code" string_of_int err_system_error e.code;
      check "the hole handler was asked" (!in_data > 0));
  finish ()
