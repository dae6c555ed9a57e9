(* A tiny TAP harness for the pyvirt tests: [test name f] runs f and prints
   "ok N - name" or "not ok N - name: exception"; [finish ()] prints the plan and
   exits 1 if any test failed. *)

let count = ref 0
let failures = ref 0

let test name f =
  incr count;
  match f () with
  | () -> Printf.printf "ok %d - %s\n%!" !count name
  | exception e ->
    incr failures;
    Printf.printf "not ok %d - %s: %s\n%!" !count name (Printexc.to_string e)

exception Check_failed of string

let check what cond = if not cond then raise (Check_failed what)

let check_eq what show expected got =
  if expected <> got then
    raise (Check_failed (Printf.sprintf "%s: expected %s, got %s" what (show expected) (show got)))

(* The code of the Pyvirt.Error f raises. *)
let error_code f =
  match f () with
  | _ -> raise (Check_failed "no error raised")
  | exception Pyvirt.Error e -> e.Pyvirt.code

let finish () =
  Printf.printf "1..%d\n" !count;
  exit (if !failures = 0 then 0 else 1)
